"""Upstream table shapes, for the sources tests and the benchmark
(benchmarks/sources_sync.py): the DDL of PostHog's, RudderStack's,
Snowplow's and the OpenTelemetry exporter's tables as they look in
ClickHouse (column names and types from each project's own DDL; cluster,
Kafka and Distributed engines replaced by local MergeTree), helpers that
create them in databases of their own, and writers that fill the PostHog,
RudderStack and Snowplow shapes with canonical events inside ClickHouse.

Not used by the product: fixtures only (their SQL is the fixtures' own).
"""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime
from pathlib import Path

UPSTREAM_DDL = r"""
-- Test fixtures: the *shapes* of the real tables (column names/types copied from the
-- upstream DDL), with cluster/Kafka/Distributed engines replaced by local MergeTree.
CREATE DATABASE IF NOT EXISTS posthog;
CREATE DATABASE IF NOT EXISTS rudder;   -- RudderStack namespace = snake_case(source name)

-- PostHog `events` (classic schema, posthog/models/event/sql.py EVENTS_TABLE_BASE_SQL + KAFKA_COLUMNS + inserted_at)
CREATE TABLE posthog.events (
    uuid UUID, event VARCHAR, properties VARCHAR, timestamp DateTime64(6,'UTC'), team_id Int64,
    distinct_id VARCHAR, elements_chain VARCHAR, created_at DateTime64(6,'UTC'), person_id UUID,
    person_created_at DateTime64, person_properties VARCHAR,
    group0_properties VARCHAR, group1_properties VARCHAR, group2_properties VARCHAR, group3_properties VARCHAR, group4_properties VARCHAR,
    group0_created_at DateTime64, group1_created_at DateTime64, group2_created_at DateTime64, group3_created_at DateTime64, group4_created_at DateTime64,
    person_mode Enum8('full' = 0, 'propertyless' = 1, 'force_upgrade' = 2),
    _timestamp DateTime, _offset UInt64,
    inserted_at Nullable(DateTime64(6, 'UTC')) DEFAULT NOW64()
) ENGINE = ReplacingMergeTree(_timestamp)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (team_id, toDate(timestamp), event, cityHash64(distinct_id), cityHash64(uuid));

-- PostHog person_distinct_id2 / person_distinct_id_overrides (same base DDL)
CREATE TABLE posthog.person_distinct_id2 (
    team_id Int64, distinct_id VARCHAR, person_id UUID, is_deleted Int8, version Int64,
    _timestamp DateTime, _offset UInt64, _partition UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY (team_id, distinct_id);
CREATE TABLE posthog.person_distinct_id_overrides AS posthog.person_distinct_id2;

-- PostHog person
CREATE TABLE posthog.person (
    id UUID, created_at DateTime64, team_id Int64, properties VARCHAR, is_identified Int8, is_deleted Int8, version UInt64,
    _timestamp DateTime, _offset UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY (team_id, id);

-- RudderStack ClickHouse destination (rudder-server warehouse/integrations/clickhouse):
-- datetime->DateTime (second precision), string->String, Nullable except sort-key columns,
-- event/event_text -> LowCardinality(String), ReplacingMergeTree ORDER BY (received_at, id) PARTITION BY toDate(received_at)
CREATE TABLE rudder.tracks (
    id String, received_at DateTime, anonymous_id Nullable(String), user_id Nullable(String),
    sent_at Nullable(DateTime), original_timestamp Nullable(DateTime), `timestamp` Nullable(DateTime),
    channel Nullable(String), context_ip Nullable(String), context_request_ip Nullable(String), context_passed_ip Nullable(String),
    context_library_name Nullable(String), context_session_id Nullable(Int64),
    event LowCardinality(String), event_text LowCardinality(String), uuid_ts Nullable(DateTime)
) ENGINE = ReplacingMergeTree() ORDER BY (received_at, id) PARTITION BY toDate(received_at);
-- per-event table: all tracks columns + flattened properties
CREATE TABLE rudder.support_contact_created (
    id String, received_at DateTime, anonymous_id Nullable(String), user_id Nullable(String),
    sent_at Nullable(DateTime), original_timestamp Nullable(DateTime), `timestamp` Nullable(DateTime),
    channel Nullable(String), context_ip Nullable(String), context_library_name Nullable(String), context_session_id Nullable(Int64),
    event LowCardinality(String), event_text LowCardinality(String), uuid_ts Nullable(DateTime),
    ticket_id Nullable(String), contact_channel Nullable(String), topic Nullable(String)
) ENGINE = ReplacingMergeTree() ORDER BY (received_at, id) PARTITION BY toDate(received_at);
CREATE TABLE rudder.pages (
    id String, received_at DateTime, anonymous_id Nullable(String), user_id Nullable(String),
    sent_at Nullable(DateTime), original_timestamp Nullable(DateTime), `timestamp` Nullable(DateTime),
    channel Nullable(String), context_ip Nullable(String), context_session_id Nullable(Int64),
    name Nullable(String), url Nullable(String), path Nullable(String), title Nullable(String), uuid_ts Nullable(DateTime)
) ENGINE = ReplacingMergeTree() ORDER BY (received_at, id) PARTITION BY toDate(received_at);
CREATE TABLE rudder.identifies (
    id String, received_at DateTime, anonymous_id Nullable(String), user_id Nullable(String),
    sent_at Nullable(DateTime), original_timestamp Nullable(DateTime), `timestamp` Nullable(DateTime),
    channel Nullable(String), context_ip Nullable(String), email Nullable(String), uuid_ts Nullable(DateTime)
) ENGINE = ReplacingMergeTree() ORDER BY (received_at, id) PARTITION BY toDate(received_at);
CREATE TABLE rudder.aliases (
    id String, received_at DateTime, previous_id Nullable(String), user_id Nullable(String),
    `timestamp` Nullable(DateTime), uuid_ts Nullable(DateTime)
) ENGINE = ReplacingMergeTree() ORDER BY (received_at, id) PARTITION BY toDate(received_at);

CREATE DATABASE IF NOT EXISTS snowplow;
CREATE DATABASE IF NOT EXISTS otel;
CREATE TABLE snowplow.events (
    app_id String, platform LowCardinality(String), event_id UUID, event LowCardinality(String),
    event_vendor String, event_name LowCardinality(String), event_format String, event_version String,
    collector_tstamp DateTime64(3,'UTC'), dvce_created_tstamp Nullable(DateTime64(3,'UTC')),
    dvce_sent_tstamp Nullable(DateTime64(3,'UTC')), true_tstamp Nullable(DateTime64(3,'UTC')),
    derived_tstamp Nullable(DateTime64(3,'UTC')), etl_tstamp Nullable(DateTime64(3,'UTC')),
    load_tstamp Nullable(DateTime64(3,'UTC')),
    user_id Nullable(String), domain_userid Nullable(String), network_userid Nullable(String),
    domain_sessionid Nullable(String), domain_sessionidx Nullable(Int32),
    page_url Nullable(String), se_category Nullable(String), se_action Nullable(String), se_label Nullable(String),
    se_value Nullable(Float64), tr_orderid Nullable(String), tr_total Nullable(Decimal(18,2)), tr_currency Nullable(String),
    unstruct_event String DEFAULT '', contexts String DEFAULT ''
) ENGINE = MergeTree ORDER BY (collector_tstamp, event_id);

CREATE TABLE otel.otel_logs (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TimestampTime DateTime DEFAULT toDateTime(Timestamp),
    TraceId String CODEC(ZSTD(1)), SpanId String CODEC(ZSTD(1)), TraceFlags UInt8,
    SeverityText LowCardinality(String) CODEC(ZSTD(1)), SeverityNumber UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)), Body String CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)), ScopeName String CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1))
) ENGINE = MergeTree PARTITION BY toDate(TimestampTime)
PRIMARY KEY (ServiceName, TimestampTime) ORDER BY (ServiceName, TimestampTime, Timestamp);

"""

DATABASES = ("posthog", "rudder", "snowplow", "otel")


def create_upstream(wh, only: tuple[str, ...] = DATABASES) -> dict[str, str]:
    """Create the upstream databases under names of their own (e.g. posthog -> posthog_1a2b3c);
    returns upstream name -> database created."""
    from seamline.warehouse import split_statements

    suffix = uuid.uuid4().hex[:8]
    names = {d: f"{d}_{suffix}" for d in DATABASES}
    bare = "\n".join(line.split("--")[0].rstrip() for line in UPSTREAM_DDL.splitlines())
    for stmt in split_statements(bare):
        text = stmt
        for d, real in names.items():
            text = text.replace(f"DATABASE IF NOT EXISTS {d};", f"DATABASE IF NOT EXISTS {real};")
            text = text.replace(f"DATABASE IF NOT EXISTS {d}", f"DATABASE IF NOT EXISTS {real}")
            text = text.replace(f" {d}.", f" {real}.")
        target = next((d for d in DATABASES if f" {names[d]}" in text), None)
        if target is not None and target not in only:
            continue
        wh.command(text)
    return {d: names[d] for d in only}


def drop_upstream(wh, names: dict[str, str]) -> None:
    from seamline.warehouse import quote_ident

    for real in names.values():
        wh.command(f"DROP DATABASE IF EXISTS {quote_ident(real)}")


CANON_COLUMNS = ("event_id String, occurred_at String, ingested_at String, source String, channel String, "
                 "direction String, type String, customer_id String, anonymous_id String, email String, "
                 "phone String, topic String, case_id String, attrs Map(String, String)")
# the canonical fields a shape carries as properties (or columns)
PROPS = ("source", "channel", "direction", "customer_id", "email", "phone", "topic", "case_id")


def canonical_file(src: Path, out: Path, ids: str = "uuid5") -> int:
    """The events with UUID ids and whole-second times.

    ``ids``: ``uuid5`` (a UUID of the original id, random in order) or ``uuidt`` (time-ordered as
    PostHog's own UUIDT: the ingest time's unix milliseconds in the first 48 bits, then the uuid5's)."""
    opener = gzip.open if src.suffix == ".gz" else open
    n = 0
    with opener(src, "rt", encoding="utf-8") as fh, open(out, "w", encoding="utf-8") as w:
        for line in fh:
            e = json.loads(line)
            u = uuid.uuid5(uuid.NAMESPACE_URL, e["event_id"])
            for k in ("occurred_at", "ingested_at"):
                if k in e:
                    e[k] = e[k][:19] + "Z"
            if ids == "uuidt":
                at = datetime.fromisoformat(e.get("ingested_at", e["occurred_at"]).replace("Z", "+00:00"))
                u = uuid.UUID(int=(int(at.timestamp() * 1000) << 80) | (u.int & (2**80 - 1)))
            e["event_id"] = str(u)
            w.write(json.dumps(e) + "\n")
            n += 1
    return n


def props_json(extra: str = "") -> str:
    pairs = ", ".join(f"'{p}', {p}" for p in PROPS if p not in extra.split(","))
    return f"toJSONString(mapUpdate(attrs, mapFilter((k, v) -> v != '', map({pairs}))))"


def create_shapes(wh, db: str, shapes: tuple[str, ...] = ("posthog", "rudder", "snowplow")) -> None:
    """The upstream databases of ``shapes`` as ``{db}_posthog``, ``{db}_rudder``, ``{db}_snowplow``."""
    from seamline.warehouse import split_statements

    bare = "\n".join(line.split("--")[0].rstrip() for line in UPSTREAM_DDL.splitlines())
    for stmt in split_statements(bare):
        for name in ("posthog", "rudder", "snowplow"):
            stmt = stmt.replace(f" {name}.", f" {db}_{name}.").replace(f"EXISTS {name}", f"EXISTS {db}_{name}")
        if "otel" not in stmt and any(f" {db}_{name}" in stmt for name in shapes):
            wh.command(stmt)


def canonical_table(wh, canon: Path, table: str) -> None:
    """A table ``table`` (``db.name``, trusted) of the canonical events of a JSON Lines file, with their times
    parsed (``occ``, ``ing``): what the writers read."""
    wh.command(f"CREATE TABLE {table} ENGINE = MergeTree ORDER BY tuple() AS "
               "SELECT *, parseDateTime64BestEffort(occurred_at, 3, 'UTC') AS occ, "
               "parseDateTime64BestEffort(ingested_at, 3, 'UTC') AS ing "
               f"FROM file({{path:String}}, 'JSONEachRow', '{CANON_COLUMNS}')", {"path": str(canon)})


def write_posthog(wh, c: str, events: str, inserted_at: str = "ing") -> None:
    """PostHog's ``events`` (``events``, trusted) from the canonical table ``c``: $pageview / $identify for
    those types, every other field a property of the JSON text ``properties``; ``inserted_at`` (an
    expression, trusted) the ingest time, or e.g. ``now64(6)`` for rows inserted now."""
    wh.command(f"INSERT INTO {events} (uuid, event, properties, timestamp, team_id, distinct_id, "
               "_timestamp, inserted_at) "
               "SELECT toUUID(event_id), multiIf(type = 'page_view', '$pageview', type = 'identify', '$identify', type), "
               f"{props_json()}, occ, 1, anonymous_id, toDateTime(ing), {inserted_at} FROM {c}")


def write_posthog_persons(wh, c: str, db: str, at: str = "toDateTime(ing)") -> None:
    """PostHog's ``person_distinct_id2`` in database ``db`` (trusted) from the canonical table ``c``: each
    anonymous id (the events' distinct_id) not there yet joins the person of the customer it was first
    seen with; ``at`` (an expression, trusted) is the row's ``_timestamp``, e.g. ``now()`` for rows
    written now."""
    wh.command(f"INSERT INTO {db}.person_distinct_id2 (team_id, distinct_id, person_id, is_deleted, version, "
               "_timestamp, _offset, _partition) "
               f"SELECT 1, anonymous_id, reinterpretAsUUID(MD5(argMin(customer_id, ing))), 0, 0, min({at}), 0, 0 "
               f"FROM {c} WHERE anonymous_id != '' AND customer_id != '' "
               f"AND anonymous_id NOT IN (SELECT distinct_id FROM {db}.person_distinct_id2) GROUP BY anonymous_id")


def write_shapes(wh, canon: Path, db: str) -> None:
    """PostHog, RudderStack and Snowplow tables (upstream shapes) holding the canonical events."""
    create_shapes(wh, db)
    c = f"{db}_posthog.canon"
    canonical_table(wh, canon, c)
    write_posthog(wh, c, f"{db}_posthog.events")
    write_rudderstack(wh, c, f"{db}_rudder")
    write_snowplow(wh, c, f"{db}_snowplow.events")


def write_rudderstack(wh, c: str, rdb: str) -> None:
    """RudderStack's tables in database ``rdb`` from the canonical table ``c``."""
    # pages, identifies, and a table per other event (with its properties as columns), also in tracks
    attr_keys = sorted(wh.scalar(f"SELECT groupUniqArrayArray(mapKeys(attrs)) FROM {c}"))
    prop_cols = [p for p in PROPS if p not in ("customer_id", "channel")] + attr_keys
    types = [t for (t,) in wh.rows(f"SELECT DISTINCT type FROM {c} ORDER BY type")]
    for t in types:
        table = {"page_view": "pages", "identify": "identifies"}.get(t, t)
        ev_cols = "" if table in ("pages", "identifies") else ", event LowCardinality(String), event_text LowCardinality(String)"
        wh.command(f"CREATE TABLE IF NOT EXISTS {rdb}.`{table}` (id String, received_at DateTime, "
                   "anonymous_id Nullable(String), user_id Nullable(String), sent_at Nullable(DateTime), "
                   "original_timestamp Nullable(DateTime), `timestamp` Nullable(DateTime), channel Nullable(String), "
                   f"context_ip Nullable(String), uuid_ts Nullable(DateTime){ev_cols}, "
                   + ", ".join(f"`{p}` Nullable(String)" for p in prop_cols)
                   + ") ENGINE = ReplacingMergeTree() ORDER BY (received_at, id)")
        for col in prop_cols:  # the upstream pages / identifies lack some: RudderStack adds them on demand
            wh.command(f"ALTER TABLE {rdb}.`{table}` ADD COLUMN IF NOT EXISTS `{col}` Nullable(String)")
        values = ", ".join(f"nullIf({p}, '')" if p in PROPS else f"nullIf(attrs['{p}'], '')" for p in prop_cols)
        ev_vals = "" if not ev_cols else f", '{table}', '{table}'"
        wh.command(f"INSERT INTO {rdb}.`{table}` (id, received_at, anonymous_id, user_id, `timestamp`, channel, "
                   f"uuid_ts{', event, event_text' if ev_cols else ''}, "
                   + ", ".join(f"`{p}`" for p in prop_cols) + ") "
                   f"SELECT event_id, toDateTime(ing), nullIf(anonymous_id, ''), nullIf(customer_id, ''), toDateTime(occ), "
                   f"channel, toDateTime(ing){ev_vals}, {values} FROM {c} WHERE type = {{t:String}}", {"t": t})
        if ev_cols:  # tracks holds every track event too (read from its own table)
            wh.command(f"INSERT INTO {rdb}.tracks (id, received_at, anonymous_id, user_id, `timestamp`, channel, "
                       "event, event_text, uuid_ts) SELECT event_id, toDateTime(ing), nullIf(anonymous_id, ''), "
                       "nullIf(customer_id, ''), toDateTime(occ), channel, type, type, toDateTime(ing) "
                       f"FROM {c} WHERE type = {{t:String}}", {"t": t})


def write_snowplow(wh, c: str, events: str) -> None:
    """Snowplow's atomic ``events`` from the canonical table ``c``: the fields in the self-describing
    event's data."""
    wh.command(f"INSERT INTO {events} (app_id, platform, event_id, event, event_vendor, event_name, "
               "event_format, event_version, collector_tstamp, derived_tstamp, load_tstamp, user_id, domain_userid, "
               "unstruct_event) "
               "SELECT 'app', 'web', toUUID(event_id), 'unstruct', 'com.acme', type, 'jsonschema', '1-0-0', occ, occ, "
               "ing, nullIf(customer_id, ''), nullIf(anonymous_id, ''), "
               "concat('{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\","
               "\"data\":{\"schema\":\"iglu:com.acme/', type, '/jsonschema/1-0-0\",\"data\":', "
               f"{props_json('customer_id')}, '}}}}') FROM {c}")
