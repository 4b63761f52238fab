"""Each kind's default mapping (SPEC §6) on tables of the upstream shapes:
RudderStack (tracks, an event's own table, pages, identifies), Snowplow
atomic events, OpenTelemetry logs, and any table through `fields`.
Expected rows are hand-computed from the rows written here."""

from __future__ import annotations

import json
from datetime import datetime as t

import pytest

from test_sources_upstream import create_upstream, drop_upstream

SALT = "test-salt"


@pytest.fixture
def upstream(wh):
    names = create_upstream(wh)
    yield names
    drop_upstream(wh, names)


def make(entry: dict):
    from seamline.sources.models import parse_sources

    (s,) = parse_sources([entry])
    return s


def sync(wh, src, full=False):
    from seamline.sources.sync import sync_source

    return sync_source(wh, src, SALT, "sources[0]", full=full)


def events(wh) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in wh.rows(
        "SELECT event_id, occurred_at, ingested_at, source, channel, direction, type, ident, customer_id, "
        "anonymous_id, email_hash, topic, case_id, attrs FROM events ORDER BY event_id")}


def email_hash(wh, email: str) -> str:
    return wh.scalar("SELECT lower(hex(SHA256(concat({s:String}, ':email:', {e:String}))))", {"s": SALT, "e": email})


def insert(wh, db: str, table: str, row: dict) -> None:
    cols = ", ".join(f"`{c}`" for c in row)
    wh.command(f"INSERT INTO `{db}`.`{table}` ({cols}) FORMAT JSONEachRow {json.dumps(row)}")


@pytest.fixture
def rudder(wh, upstream):
    db = upstream["rudder"]
    # a track event with a table of its own is read from that table, not from tracks
    base = {"id": "t1", "received_at": "2026-03-01 09:00:05", "anonymous_id": "anon1", "user_id": "u1",
            "timestamp": "2026-03-01 09:00:00", "channel": "mobile", "event": "support_contact_created",
            "event_text": "Support Contact Created", "uuid_ts": "2026-03-01 09:00:10"}
    insert(wh, db, "tracks", base)
    insert(wh, db, "support_contact_created", base | {"ticket_id": "T-1", "contact_channel": "phone", "topic": "billing"})
    insert(wh, db, "tracks", {"id": "t2", "received_at": "2026-03-01 09:02:01", "user_id": "u2",
                              "timestamp": "2026-03-01 09:02:00", "channel": "server", "event": "order_completed",
                              "event_text": "Order Completed", "uuid_ts": "2026-03-01 09:02:03"})
    insert(wh, db, "pages", {"id": "p1", "received_at": "2026-03-01 08:59:01", "anonymous_id": "anon1",
                             "original_timestamp": "2026-03-01 08:59:00", "channel": "web", "name": "Home",
                             "url": "https://x/"})
    insert(wh, db, "identifies", {"id": "i1", "received_at": "2026-03-01 09:01:01", "anonymous_id": "anon1",
                                  "user_id": "u1", "timestamp": "2026-03-01 09:01:00", "email": "U1@X.com",
                                  "uuid_ts": "2026-03-01 09:01:02"})
    return db


def test_rudderstack_tables_map_to_canonical_events(wh, rudder):
    # an event's table name (support_contact_created) or its name as sent (Order Completed)
    src = make({"name": "rudder", "kind": "rudderstack", "database": rudder,
                "types": {"support_contact_created": "contact", "Order Completed": "purchase"}})
    r = sync(wh, src)
    assert (r.read, r.loaded, r.duplicates, r.quarantined) == (4, 4, 0, 0)
    assert r.tables == {"tracks": 1, "support_contact_created": 1, "pages": 1, "identifies": 1}
    assert events(wh) == {
        "i1": (t(2026, 3, 1, 9, 1), t(2026, 3, 1, 9, 1, 2), "rudder", "web", "inbound", "identify", "c:u1", "u1",
               "anon1", email_hash(wh, "u1@x.com"), "", "", {}),
        # no timestamp: original_timestamp; no uuid_ts: received_at
        "p1": (t(2026, 3, 1, 8, 59), t(2026, 3, 1, 8, 59, 1), "rudder", "web", "inbound", "page_view", "a:anon1", "",
               "anon1", "", "", "", {"name": "Home", "url": "https://x/"}),
        "t1": (t(2026, 3, 1, 9, 0), t(2026, 3, 1, 9, 0, 10), "rudder", "app", "inbound", "contact", "c:u1", "u1",
               "anon1", "", "billing", "", {"ticket_id": "T-1", "contact_channel": "phone"}),
        "t2": (t(2026, 3, 1, 9, 2), t(2026, 3, 1, 9, 2, 3), "rudder", "web", "inbound", "purchase", "c:u2", "u2", "",
               "", "", "", {}),
    }
    # RudderStack adds a column once an event carries it: the next sync reads it
    wh.command(f"ALTER TABLE `{rudder}`.pages ADD COLUMN case_id Nullable(String)")
    insert(wh, rudder, "pages", {"id": "p2", "received_at": "2026-03-01 09:03:01", "anonymous_id": "anon1",
                                 "timestamp": "2026-03-01 09:03:00", "case_id": "k2"})
    r = sync(wh, src)
    assert (r.read, r.loaded) == (5, 1)  # everything is within 10 minutes of the newest row
    assert events(wh)["p2"][11] == "k2"


def test_snowplow_events(wh, upstream):
    db = upstream["snowplow"]
    insert(wh, db, "events", {"app_id": "site", "platform": "web", "event_id": "00000000-0000-0000-0000-0000000000a1",
                              "event": "page_view", "event_name": "page_view", "collector_tstamp": "2026-03-01 09:00:00",
                              "derived_tstamp": "2026-03-01 08:59:59.900", "load_tstamp": "2026-03-01 09:00:03",
                              "domain_userid": "dom1"})
    unstruct = {"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
                "data": {"schema": "iglu:com.acme/support_call/jsonschema/1-0-0",
                         "data": {"topic": "delivery", "case_id": "k7", "channel": "phone", "agent": "a1"}}}
    insert(wh, db, "events", {"app_id": "crm", "platform": "mob", "event_id": "00000000-0000-0000-0000-0000000000a2",
                              "event": "unstruct", "event_name": "support_call", "collector_tstamp": "2026-03-01 09:05:00",
                              "user_id": "u7", "domain_userid": "dom7", "unstruct_event": json.dumps(unstruct)})
    insert(wh, db, "events", {"app_id": "app", "platform": "mob", "event_id": "00000000-0000-0000-0000-0000000000a3",
                              "event": "page_view", "event_name": "page_view", "collector_tstamp": "2026-03-01 09:06:00",
                              "domain_userid": "dom7"})
    r = sync(wh, make({"name": "snowplow", "kind": "snowplow", "database": db, "types": {"support_call": "contact"}}))
    assert (r.read, r.loaded, r.quarantined) == (3, 3, 0)
    got = events(wh)
    assert got["00000000-0000-0000-0000-0000000000a1"] == (
        t(2026, 3, 1, 8, 59, 59, 900000), t(2026, 3, 1, 9, 0, 3), "snowplow", "web", "inbound", "page_view", "a:dom1",
        "", "dom1", "", "", "", {})
    # no derived_tstamp or load_tstamp: the collector's time; the event's own data gives fields and attrs
    assert got["00000000-0000-0000-0000-0000000000a2"] == (
        t(2026, 3, 1, 9, 5), t(2026, 3, 1, 9, 5), "snowplow", "phone", "inbound", "contact", "c:u7", "u7", "dom7", "",
        "delivery", "k7", {"agent": "a1"})
    assert got["00000000-0000-0000-0000-0000000000a3"][3] == "app"  # platform mob


def test_otel_logs(wh, upstream):
    db = upstream["otel"]
    attrs = {"type": "contact", "channel": "chat", "customer_id": "c5", "topic": "tech",
             "ingested_at": "2026-03-01T09:00:02Z", "agent": "x"}
    insert(wh, db, "otel_logs", {"Timestamp": "2026-03-01 09:00:00.123456789", "ServiceName": "support-desk",
                                 "Body": "ticket opened", "LogAttributes": attrs})
    insert(wh, db, "otel_logs", {"Timestamp": "2026-03-01 09:01:00", "ServiceName": "support-desk",
                                 "Body": "no channel", "LogAttributes": {"type": "contact", "customer_id": "c5"}})
    src = make({"name": "logs", "kind": "otel_logs", "database": db})
    r = sync(wh, src)
    assert (r.read, r.loaded, r.quarantined) == (2, 1, 1)
    ((eid, row),) = events(wh).items()
    assert len(eid) == 16 and int(eid, 16) >= 0  # a hash of the row
    assert row == (t(2026, 3, 1, 9, 0, 0, 123000), t(2026, 3, 1, 9, 0, 2), "support-desk", "chat", "inbound",
                   "contact", "c:c5", "c5", "", "", "tech", "", {"agent": "x"})
    assert wh.scalar("SELECT reason FROM quarantine FINAL WHERE file = 'source:logs'") == \
        "missing required field: channel"
    again = sync(wh, src, full=True)  # the same row hashes to the same id
    assert (again.read, again.loaded, again.duplicates, again.quarantined) == (2, 0, 1, 1)


def test_any_table_through_fields(wh, upstream):
    db = upstream["otel"]  # any database
    wh.command(f"CREATE TABLE `{db}`.tickets (id UInt64, at DateTime, who String, what String, via String) "
               "ENGINE = MergeTree ORDER BY id")
    wh.command(f"INSERT INTO `{db}`.tickets VALUES (1, '2026-03-01 09:00:00', 'c1', 'Contact', 'phone'), "
               "(2, '2026-03-01 09:10:00', 'c1', 'resolution', 'phone')")
    src = make({"name": "helpdesk", "kind": "table", "database": db, "table": "tickets",
                "fields": {"event_id": "concat('ticket-', toString(id))", "occurred_at": "at",
                           "customer_id": "who", "type": "lower(what)", "channel": "via"}})
    r = sync(wh, src)
    assert (r.read, r.loaded) == (2, 2)
    got = events(wh)
    assert got["ticket-1"][0] == t(2026, 3, 1, 9, 0)  # ingested_at: the load time (no column for it)
    assert got["ticket-1"][2:8] == ("helpdesk", "phone", "inbound", "contact", "c:c1", "c1")
    assert got["ticket-2"][4] == "outbound"  # a resolution is sent by the business
    # the insert time is the occurred_at expression: a second sync reads from 09:00 (09:10 - 10 min)
    r = sync(wh, src)
    assert (r.read, r.duplicates) == (2, 2)


def test_table_without_a_required_field_is_explained(wh, upstream):
    from seamline.sources.check import check, render

    db = upstream["otel"]
    wh.command(f"CREATE TABLE `{db}`.raw (id String, at DateTime) ENGINE = MergeTree ORDER BY id")
    wh.command(f"INSERT INTO `{db}`.raw VALUES ('a', '2026-03-01 09:00:00')")
    src = make({"name": "raw", "kind": "table", "database": db, "table": "raw", "fields": {"occurred_at": "at"}})
    report = check(wh, src, "sources[0]")
    assert "raw: event_id: nothing to read it from (required: give fields.event_id)" in report["missing"]
    assert "raw: channel: nothing to read it from (required: give fields.channel)" in report["missing"]
    assert report["empty"] == {"event_id": 1, "channel": 1, "type": 1, "identifier": 1}
    text = "\n".join(render(report))
    assert ("rows with no value for a required field (quarantined by a sync): event_id 1 of 1, channel 1 of 1, "
            "type 1 of 1, identifier 1 of 1") in text
    assert len(text.splitlines()) < 25
    r = sync(wh, src)
    assert (r.read, r.quarantined) == (1, 1)
    assert wh.scalar("SELECT reason FROM quarantine FINAL") == \
        "missing required field: event_id, channel, type"


def test_a_source_that_cannot_be_mapped(wh, upstream):
    from seamline.sources.check import check
    from seamline.sources.mapping import MappingError

    src = make({"name": "ph", "kind": "posthog", "database": "no_such_db"})
    report = check(wh, src, "sources[0]")
    assert report["error"] == ("sources[0].database = 'no_such_db': no table no_such_db.events "
                               "(the database has no tables or does not exist)")
    with pytest.raises(MappingError):
        sync(wh, src)
    (row,) = wh.rows("SELECT status, error FROM source_syncs")
    assert row == ("failed", report["error"])


def test_otel_logs_with_json_attributes(wh, upstream):
    """The exporter's json option: LogAttributes is a JSON column (a dotted key is a path)."""
    db = upstream["otel"]
    wh.command(f"CREATE TABLE `{db}`.otel_logs_json (Timestamp DateTime64(9), ServiceName LowCardinality(String), "
               "Body String, TraceId String, SpanId String, LogAttributes JSON) ENGINE = MergeTree "
               "ORDER BY (ServiceName, Timestamp)")
    insert(wh, db, "otel_logs_json", {"Timestamp": "2026-03-01 09:00:00", "ServiceName": "shop", "Body": "order",
                                      "LogAttributes": {"event.name": "purchase", "channel": "store",
                                                        "customer_id": "c8", "product": "p2", "amount": "30"}})
    r = sync(wh, make({"name": "logs", "kind": "otel_logs", "database": db, "table": "otel_logs_json"}))
    assert (r.read, r.loaded) == (1, 1)
    ((_, row),) = events(wh).items()
    assert row[2:8] == ("shop", "store", "inbound", "purchase", "c:c8", "c8")
    assert row[12] == {"product": "p2", "amount": "30"}
