"""Upstream table shapes for the sources tests (no tests here): the DDL of
PostHog's, RudderStack's, Snowplow's and the OpenTelemetry exporter's tables
as they look in ClickHouse (column names and types from each project's own
DDL; cluster, Kafka and Distributed engines replaced by local MergeTree), and
helpers that create them in databases of their own for one test."""

from __future__ import annotations

import uuid

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
