"""The same events, as canonical JSON Lines and as PostHog-, RudderStack- and
Snowplow-shaped tables, give identical ``metrics --json`` and
``incidents --json`` (issue 22's "done when").

The events are the sample generator's (``seamline.sample``, fewer customers
than sample_data/ so the test stays quick; the slow marker runs
sample_data/'s size), with UUID event ids (PostHog and Snowplow ids are UUIDs)
and times in whole seconds (RudderStack's ClickHouse tables keep seconds).
Each shape is written from the canonical rows inside ClickHouse, each into a
warehouse database of its own on the same engine, and every job runs on each.
"""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

import pytest

from settingskit import make_settings, teardown_settings

CANON_COLUMNS = ("event_id String, occurred_at String, ingested_at String, source String, channel String, "
                 "direction String, type String, customer_id String, anonymous_id String, email String, "
                 "phone String, topic String, case_id String, attrs Map(String, String)")
# the canonical fields a shape carries as properties (or columns)
PROPS = ("source", "channel", "direction", "customer_id", "email", "phone", "topic", "case_id")


def _canonical_file(src: Path, out: Path) -> int:
    """The events with UUID ids and whole-second times."""
    opener = gzip.open if src.suffix == ".gz" else open
    n = 0
    with opener(src, "rt", encoding="utf-8") as fh, open(out, "w", encoding="utf-8") as w:
        for line in fh:
            e = json.loads(line)
            e["event_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, e["event_id"]))
            for k in ("occurred_at", "ingested_at"):
                if k in e:
                    e[k] = e[k][:19] + "Z"
            w.write(json.dumps(e) + "\n")
            n += 1
    return n


def _props_json(extra: str = "") -> str:
    pairs = ", ".join(f"'{p}', {p}" for p in PROPS if p not in extra.split(","))
    return f"toJSONString(mapUpdate(attrs, mapFilter((k, v) -> v != '', map({pairs}))))"


def _write_shapes(wh, canon: Path, db: str) -> None:
    """PostHog, RudderStack and Snowplow tables (upstream shapes) holding the canonical events."""
    from test_sources_upstream import UPSTREAM_DDL
    from seamline.warehouse import split_statements

    bare = "\n".join(line.split("--")[0].rstrip() for line in UPSTREAM_DDL.splitlines())
    for stmt in split_statements(bare):
        for name in ("posthog", "rudder", "snowplow"):
            stmt = stmt.replace(f" {name}.", f" {db}_{name}.").replace(f"EXISTS {name}", f"EXISTS {db}_{name}")
        if "otel" not in stmt:
            wh.command(stmt)
    wh.command(f"CREATE TABLE {db}_posthog.canon ENGINE = MergeTree ORDER BY tuple() AS "
               "SELECT *, parseDateTime64BestEffort(occurred_at, 3, 'UTC') AS occ, "
               "parseDateTime64BestEffort(ingested_at, 3, 'UTC') AS ing "
               f"FROM file({{path:String}}, 'JSONEachRow', '{CANON_COLUMNS}')", {"path": str(canon)})
    c = f"{db}_posthog.canon"
    # PostHog: $pageview / $identify for those types, every other field a property
    wh.command(f"INSERT INTO {db}_posthog.events (uuid, event, properties, timestamp, team_id, distinct_id, "
               "_timestamp, inserted_at) "
               "SELECT toUUID(event_id), multiIf(type = 'page_view', '$pageview', type = 'identify', '$identify', type), "
               f"{_props_json()}, occ, 1, anonymous_id, toDateTime(ing), ing FROM {c}")
    # RudderStack: pages, identifies, and a table per other event (with its properties as columns), also in tracks
    attr_keys = sorted(wh.scalar(f"SELECT groupUniqArrayArray(mapKeys(attrs)) FROM {c}"))
    prop_cols = [p for p in PROPS if p not in ("customer_id", "channel")] + attr_keys
    types = [t for (t,) in wh.rows(f"SELECT DISTINCT type FROM {c} ORDER BY type")]
    for t in types:
        table = {"page_view": "pages", "identify": "identifies"}.get(t, t)
        ev_cols = "" if table in ("pages", "identifies") else ", event LowCardinality(String), event_text LowCardinality(String)"
        wh.command(f"CREATE TABLE IF NOT EXISTS {db}_rudder.`{table}` (id String, received_at DateTime, "
                   "anonymous_id Nullable(String), user_id Nullable(String), sent_at Nullable(DateTime), "
                   "original_timestamp Nullable(DateTime), `timestamp` Nullable(DateTime), channel Nullable(String), "
                   f"context_ip Nullable(String), uuid_ts Nullable(DateTime){ev_cols}, "
                   + ", ".join(f"`{p}` Nullable(String)" for p in prop_cols)
                   + ") ENGINE = ReplacingMergeTree() ORDER BY (received_at, id)")
        for col in prop_cols:  # the upstream pages / identifies lack some: RudderStack adds them on demand
            wh.command(f"ALTER TABLE {db}_rudder.`{table}` ADD COLUMN IF NOT EXISTS `{col}` Nullable(String)")
        values = ", ".join(f"nullIf({p}, '')" if p in PROPS else f"nullIf(attrs['{p}'], '')" for p in prop_cols)
        ev_vals = "" if not ev_cols else f", '{table}', '{table}'"
        wh.command(f"INSERT INTO {db}_rudder.`{table}` (id, received_at, anonymous_id, user_id, `timestamp`, channel, "
                   f"uuid_ts{', event, event_text' if ev_cols else ''}, "
                   + ", ".join(f"`{p}`" for p in prop_cols) + ") "
                   f"SELECT event_id, toDateTime(ing), nullIf(anonymous_id, ''), nullIf(customer_id, ''), toDateTime(occ), "
                   f"channel, toDateTime(ing){ev_vals}, {values} FROM {c} WHERE type = {{t:String}}", {"t": t})
        if ev_cols:  # tracks holds every track event too (read from its own table)
            wh.command(f"INSERT INTO {db}_rudder.tracks (id, received_at, anonymous_id, user_id, `timestamp`, channel, "
                       "event, event_text, uuid_ts) SELECT event_id, toDateTime(ing), nullIf(anonymous_id, ''), "
                       "nullIf(customer_id, ''), toDateTime(occ), channel, type, type, toDateTime(ing) "
                       f"FROM {c} WHERE type = {{t:String}}", {"t": t})
    # Snowplow: the fields in the self-describing event's data
    wh.command(f"INSERT INTO {db}_snowplow.events (app_id, platform, event_id, event, event_vendor, event_name, "
               "event_format, event_version, collector_tstamp, derived_tstamp, load_tstamp, user_id, domain_userid, "
               "unstruct_event) "
               "SELECT 'app', 'web', toUUID(event_id), 'unstruct', 'com.acme', type, 'jsonschema', '1-0-0', occ, occ, "
               "ing, nullIf(customer_id, ''), nullIf(anonymous_id, ''), "
               "concat('{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\","
               "\"data\":{\"schema\":\"iglu:com.acme/', type, '/jsonschema/1-0-0\",\"data\":', "
               f"{_props_json('customer_id')}, '}}}}') FROM {c}")


def _results(wh, md, s, start, end) -> tuple[dict, list]:
    from seamline.incidents import list_incidents
    from seamline.metrics import period_metrics
    from seamline.runner import run_jobs

    results = run_jobs(wh, md, s, None, full=False)
    assert all(r.status == "success" for r in results), [(r.job, r.status, r.error) for r in results]
    return period_metrics(wh, s, start, end), list_incidents(wh)


def _equivalence(tmp_path, chdb_dsn, sample: Path):
    if not chdb_dsn.startswith("chdb:"):
        pytest.skip("the shapes are written from a local file the embedded engine reads")
    from seamline.cli import Context
    from seamline.load import load_file
    from seamline.sources.models import parse_sources
    from seamline.sources.sync import sync_source

    canon = tmp_path / "canon.jsonl"
    n = _canonical_file(sample, canon)
    variants = {}
    shapes_db = f"up{uuid.uuid4().hex[:8]}"
    opened = []
    try:
        for name in ("jsonl", "posthog", "rudderstack", "snowplow"):
            (tmp_path / name).mkdir()
            s = make_settings(tmp_path / name, chdb_dsn)
            opened.append(s)
            ctx = Context(s)
            wh, md = ctx.wh, ctx.md
            if name == "jsonl":
                r = load_file(wh, canon, s.hash_salt)
                _write_shapes(wh, canon, shapes_db)
            else:
                db = f"{shapes_db}_{'rudder' if name == 'rudderstack' else name}"
                (src,) = parse_sources([{"name": name, "kind": name, "database": db}])
                r = sync_source(wh, src, s.hash_salt, "sources[0]")
            assert (r.read, r.loaded, r.quarantined) == (n, n, 0), name
            start, end = wh.rows("SELECT min(occurred_at), max(occurred_at) FROM events")[0]
            from datetime import timedelta, timezone
            variants[name] = _results(wh, md, s, start.replace(tzinfo=timezone.utc),
                                      end.replace(tzinfo=timezone.utc) + timedelta(seconds=1))
    finally:
        from seamline.warehouse import Warehouse, quote_ident

        if opened:
            w = Warehouse(opened[0].warehouse_dsn, opened[0].warehouse_database)
            for d in ("posthog", "rudder", "snowplow"):
                w.command(f"DROP DATABASE IF EXISTS {quote_ident(f'{shapes_db}_{d}')}")
        for s in opened:
            teardown_settings(s)
    metrics, incidents = variants["jsonl"]
    assert metrics["continuity"]["transitions"] > 0 and incidents  # the comparison has something to compare
    for name in ("posthog", "rudderstack", "snowplow"):
        assert json.dumps(variants[name][0], sort_keys=True, default=str) == \
            json.dumps(metrics, sort_keys=True, default=str), name
        assert json.dumps(variants[name][1], default=str) == json.dumps(incidents, default=str), name


def test_same_events_same_metrics_and_incidents(tmp_path, chdb_dsn):
    from seamline.sample import generate

    sample = tmp_path / "sample.jsonl"
    generate(sample, customers=60, days=14, seed=7, bad_rows=False)
    _equivalence(tmp_path, chdb_dsn, sample)


@pytest.mark.slow
def test_same_events_same_metrics_at_the_sample_size(tmp_path, chdb_dsn):
    """sample_data/'s customers and days (its bad rows left out: a shape's typed columns cannot hold them)."""
    from seamline.sample import generate

    sample = tmp_path / "sample.jsonl"
    generate(sample, customers=3000, days=60, seed=7, bad_rows=False)
    _equivalence(tmp_path, chdb_dsn, sample)
