"""Sources in place (SPEC §6): PostHog-shaped tables in a database of their
own on the same engine, synced into events through the load's pipeline.
Expectations are hand-computed from the rows written here."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from test_sources_upstream import create_upstream, drop_upstream

SALT = "test-salt"


@pytest.fixture
def upstream(wh):
    names = create_upstream(wh)
    yield names
    drop_upstream(wh, names)


def posthog_event(wh, db, uuid_n: int, event: str, props: dict, distinct_id: str, ts: str, inserted: str | None,
                  kafka_ts: str | None = None):
    wh.command(
        f"INSERT INTO `{db}`.events (uuid, event, properties, timestamp, team_id, distinct_id, _timestamp, inserted_at) "
        "VALUES ({u:UUID}, {e:String}, {p:String}, {ts:DateTime64(6, 'UTC')}, 1, {d:String}, {k:DateTime}, "
        "{ins:Nullable(DateTime64(6, 'UTC'))})",
        {"u": f"00000000-0000-0000-0000-{uuid_n:012d}", "e": event, "p": json.dumps(props), "ts": ts,
         "d": distinct_id, "k": kafka_ts or inserted or ts, "ins": inserted})


def uid(n: int) -> str:
    return f"00000000-0000-0000-0000-{n:012d}"


def source(db: str, **extra):
    from seamline.sources.models import parse_sources

    (s,) = parse_sources([{"name": "posthog", "kind": "posthog", "database": db} | extra])
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


@pytest.fixture
def posthog_rows(wh, upstream):
    db = upstream["posthog"]
    posthog_event(wh, db, 1, "$pageview", {"$lib": "web", "$current_url": "https://x", "plan": "pro"}, "d1",
                  "2026-03-01 09:00:00", "2026-03-01 09:00:05")
    posthog_event(wh, db, 2, "ticket_opened", {"$lib": "posthog-ios", "topic": "billing", "case_id": "k1",
                                               "customer_id": "c1", "email": " A@X.com "}, "d1",
                  "2026-03-01 09:01:00", "2026-03-01 09:01:02")
    posthog_event(wh, db, 3, "message", {"channel": "email", "kind": "promo", "product": "p1", "amount": 12.5}, "d2",
                  "2026-03-01 09:02:00.250", "2026-03-01 09:02:01")
    # no inserted_at: ingested at the Kafka time (_timestamp)
    posthog_event(wh, db, 4, "$identify", {"$set": {"email": "b@y.com"}, "source": "crm"}, "d2",
                  "2026-03-01 09:03:00", None, kafka_ts="2026-03-01 09:03:30")
    posthog_event(wh, db, 5, "survey", {"ces": "9"}, "d3", "2026-03-01 09:04:00", "2026-03-01 09:04:00")
    posthog_event(wh, db, 6, "$pageview", {}, "d3", "2099-03-01 09:04:00", "2026-03-01 09:04:30")
    posthog_event(wh, db, 7, "feature_flag_called", {"$lib": "posthog-android"}, "d3", "2026-03-01 09:05:00",
                  "2026-03-01 09:05:00")
    return db


def test_posthog_rows_map_to_canonical_events(wh, posthog_rows):
    r = sync(wh, source(posthog_rows, types={"ticket_opened": "contact"}))
    assert (r.read, r.loaded, r.duplicates, r.quarantined) == (7, 5, 0, 2)
    got = events(wh)
    t = datetime
    assert got == {
        uid(1): (t(2026, 3, 1, 9, 0), t(2026, 3, 1, 9, 0, 5), "posthog", "web", "inbound", "page_view", "a:d1",
                 "", "d1", "", "", "", {"plan": "pro"}),
        uid(2): (t(2026, 3, 1, 9, 1), t(2026, 3, 1, 9, 1, 2), "posthog", "app", "inbound", "contact", "c:c1",
                 "c1", "d1", email_hash(wh, "a@x.com"), "billing", "k1", {}),
        uid(3): (t(2026, 3, 1, 9, 2, 0, 250000), t(2026, 3, 1, 9, 2, 1), "posthog", "email", "outbound", "message",
                 "a:d2", "", "d2", "", "", "", {"kind": "promo", "product": "p1", "amount": "12.5"}),
        uid(4): (t(2026, 3, 1, 9, 3), t(2026, 3, 1, 9, 3, 30), "crm", "web", "inbound", "identify", "a:d2", "",
                 "d2", email_hash(wh, "b@y.com"), "", "", {}),
        uid(7): (t(2026, 3, 1, 9, 5), t(2026, 3, 1, 9, 5), "posthog", "app", "inbound", "feature_flag_called",
                 "a:d3", "", "d3", "", "", "", {}),
    }
    reasons = sorted(r[0] for r in wh.rows("SELECT reason FROM quarantine FINAL WHERE file = 'source:posthog'"))
    assert reasons == ["ces must be an integer 1..7, got '9'",
                       "occurred_at in the future: 2099-03-01T09:04:00.000Z (later than load time + 1 day)"]
    # the load log has the sync as one load, counts reconciling
    assert wh.rows("SELECT read, loaded, duplicates, quarantined FROM loads WHERE file = 'source:posthog'") == \
        [(7, 5, 0, 2)]


def test_resync_never_duplicates(wh, posthog_rows):
    src = source(posthog_rows)
    first = sync(wh, src)
    again = sync(wh, src)  # every row is inside the look-back of the newest insert time (10 min)
    full = sync(wh, src, full=True)
    assert (first.read, first.loaded, first.duplicates, first.quarantined) == (7, 5, 0, 2)
    for r in (again, full):
        assert (r.read, r.loaded, r.duplicates, r.quarantined) == (7, 0, 5, 2)
    assert wh.scalar("SELECT count() FROM events") == 5
    # a row quarantined again replaces its copy: the same file and stable line
    assert wh.scalar("SELECT count() FROM quarantine FINAL") == 2
    assert wh.scalar("SELECT uniqExact(line) FROM quarantine") == 2


def test_incremental_sync_with_lookback(wh, upstream):
    db = upstream["posthog"]
    posthog_event(wh, db, 1, "login", {}, "d1", "2026-03-01 10:00:00", "2026-03-01 10:00:00")
    posthog_event(wh, db, 2, "login", {}, "d1", "2026-03-01 10:30:00", "2026-03-01 10:30:00")
    src = source(db)
    r = sync(wh, src)
    assert (r.read, r.loaded) == (2, 2)  # watermark 10:30
    posthog_event(wh, db, 3, "login", {}, "d1", "2026-03-01 11:00:00", "2026-03-01 11:00:00")  # new
    posthog_event(wh, db, 4, "login", {}, "d1", "2026-03-01 10:24:00", "2026-03-01 10:25:00")  # late, inside 10 min
    posthog_event(wh, db, 5, "login", {}, "d1", "2026-03-01 10:14:00", "2026-03-01 10:15:00")  # late, outside
    r = sync(wh, src)  # reads from 10:20: rows 2 (again), 3 and 4
    assert (r.read, r.loaded, r.duplicates, r.quarantined) == (3, 2, 1, 0)
    assert sorted(events(wh)) == [uid(1), uid(2), uid(3), uid(4)]
    r = sync(wh, src)  # from 10:50: row 3 again
    assert (r.read, r.loaded, r.duplicates) == (1, 0, 1)
    r = sync(wh, source(db, lookback="1h"))  # a longer look-back reaches row 5: from 10:00
    assert (r.read, r.loaded, r.duplicates) == (5, 1, 4)
    assert sorted(events(wh)) == [uid(n) for n in range(1, 6)]


def test_full_sync_rereads_the_whole_source(wh, upstream):
    db = upstream["posthog"]
    posthog_event(wh, db, 1, "login", {}, "d1", "2026-03-01 10:00:00", "2026-03-01 10:30:00")
    src = source(db)
    sync(wh, src)
    posthog_event(wh, db, 2, "login", {}, "d1", "2026-03-01 09:00:00", "2026-03-01 09:00:00")  # far behind
    assert sync(wh, src).loaded == 0
    r = sync(wh, src, full=True)
    assert (r.read, r.loaded, r.duplicates) == (2, 1, 1)


def test_fields_override_and_missing_column_reads_null(wh, upstream):
    db = upstream["posthog"]
    # a PostHog events table from before inserted_at existed
    wh.command(f"ALTER TABLE `{db}`.events DROP COLUMN inserted_at")
    wh.command(f"INSERT INTO `{db}`.events (uuid, event, properties, timestamp, team_id, distinct_id, _timestamp) "
               "VALUES ({u:UUID}, 'ticket', {p:String}, '2026-03-01 09:00:00', 1, 'd1', '2026-03-01 09:00:07')",
               {"u": uid(1), "p": json.dumps({"contact_channel": "phone", "customer_id": "c9"})})
    src = source(db, types={"ticket": "contact"},
                 fields={"channel": "JSONExtractString(properties, 'contact_channel')"})
    from seamline.sources.check import check

    report = check(wh, src, "sources[0]")
    assert report["error"] is None, report["error"]
    assert "events: ingested_at: column 'inserted_at' not found (reads as NULL)" in report["missing"]
    assert report["sample"][0]["channel"] == "phone" and report["sample"][0]["ingested_at"] == "2026-03-01T09:00:07.000Z"
    r = sync(wh, src)
    assert (r.read, r.loaded) == (1, 1)
    assert events(wh)[uid(1)][2:7] == ("posthog", "phone", "inbound", "contact", "c:c9")


def test_bad_expression_is_rejected_naming_the_key(wh, upstream):
    from seamline.config import ConfigError
    from seamline.sources.mapping import MappingError

    db = upstream["posthog"]
    for expr, why in (("1; DROP TABLE events", "';' is not allowed"),
                      ("(SELECT 1)", "'SELECT' is not allowed"),
                      ("event -- comment", "'--' is not allowed"),
                      ("'a' = 'b", "unterminated string literal")):
        with pytest.raises(ConfigError) as err:
            source(db, fields={"channel": expr})
        assert str(err.value) == (f"sources[0].fields.channel = {expr!r}: not a single expression: {why}"
                                  + ("" if "unterminated" in why else
                                     " (one expression over the source table's columns: no ';', comments or subqueries)"))
        assert "\n" not in str(err.value)
    # text that passes the text check but is not one expression: ClickHouse's parser says so
    with pytest.raises(MappingError) as err:
        sync(wh, source(db, fields={"channel": "1), (2"}))
    assert str(err.value) == "sources[0].fields.channel = '1), (2': not a single expression"
    with pytest.raises(MappingError) as err:
        sync(wh, source(db, fields={"topic": "no_such_column"}))
    assert str(err.value).startswith("sources[0].fields.topic = 'no_such_column': Unknown expression")
    assert wh.scalar("SELECT count() FROM events") == 0


def test_properties_read_as_the_load_reads_values(wh, upstream):
    """Each property is read from one parse of the properties per row: strings unescaped, null as
    none, objects and arrays as their JSON text, the first of duplicate keys; a text that is not a
    JSON object has no properties."""
    from seamline.sources.mapping import plans

    db = upstream["posthog"]
    texts = {"d1": '{"source":"a\\"b","topic":{"a":1},"case_id":[1,"2"],"email":null,"customer_id":"c\\u00e9",'
                   '"n":12.5,"y":true,"$lib":"posthog-ios"}',
             "d2": "not json",
             "d3": "[1, 2]",
             "d4": '{"$set":{"email":"s@e.t"},"customer_id":"a","customer_id":"b","phone":"","note":"t\\tx"}'}
    for d, text in texts.items():
        wh.command(f"INSERT INTO `{db}`.events (uuid, event, properties, timestamp, team_id, distinct_id, "
                   "_timestamp, inserted_at) VALUES (generateUUIDv4(), 'x', {p:String}, now64(), 1, {d:String}, "
                   "now(), now64())", {"p": text, "d": d})
    (plan,) = plans(wh, source(db), "sources[0]")
    got = {r[0]: r[1:] for r in wh.rows(
        f"SELECT _sl_anonymous_id, _sl_source, _sl_channel, _sl_topic, _sl_case_id, _sl_email, _sl_customer_id, "
        f"_sl_phone, _sl_attrs FROM ({plan.select()}) ORDER BY _sl_anonymous_id", plan.params)}
    assert got == {
        "d1": ('a"b', "app", '{"a":1}', '[1,"2"]', None, "cé", None, '{"n":12.5,"y":true}'),
        "d2": ("posthog", "web", None, None, None, None, None, "{}"),
        "d3": ("posthog", "web", None, None, None, None, None, "{}"),
        "d4": ("posthog", "web", None, None, "s@e.t", "a", None, '{"note":"t\\tx"}'),
    }
