"""Identity from the source (SPEC §6): PostHog's person tables (latest
version of person_distinct_id2, not deleted, overrides first) and
RudderStack's aliases join identifiers into one customer, on top of the
identifiers that appear together on events."""

from __future__ import annotations

import json

import pytest

from test_sources_upstream import create_upstream, drop_upstream

SALT = "test-salt"


@pytest.fixture
def upstream(wh):
    names = create_upstream(wh, ("posthog", "rudder"))
    yield names
    drop_upstream(wh, names)


def make(entry: dict):
    from seamline.sources.models import parse_sources

    (s,) = parse_sources([entry])
    return s


def sync(wh, src, full=False):
    from seamline.sources.sync import sync_source

    return sync_source(wh, src, SALT, "sources[0]", full=full)


def customers(wh) -> dict[str, str]:
    from seamline.identity import resolve

    resolve(wh)
    return dict(wh.rows("SELECT ident, customer FROM identity_map"))


def insert(wh, db: str, table: str, row: dict) -> None:
    cols = ", ".join(f"`{c}`" for c in row)
    wh.command(f"INSERT INTO `{db}`.`{table}` ({cols}) FORMAT JSONEachRow {json.dumps(row)}")


P = {n: f"00000000-0000-0000-0000-0000000000{n}" for n in range(10, 16)}


def person(wh, db, table, distinct_id, p, version, deleted=0, at="2026-03-01 09:00:00"):
    insert(wh, db, table, {"team_id": 1, "distinct_id": distinct_id, "person_id": P[p], "is_deleted": deleted,
                           "version": version, "_timestamp": at})


def test_posthog_person_merges_join_customers(wh, upstream):
    db = upstream["posthog"]
    for i, (d, props) in enumerate([("d1", {"customer_id": "c1"}), ("d2", {}), ("d3", {}), ("d4", {}), ("d5", {})]):
        insert(wh, db, "events", {"uuid": f"00000000-0000-0000-0000-00000000000{i}", "event": "$pageview",
                                  "properties": json.dumps(props), "timestamp": "2026-03-01 09:00:00", "team_id": 1,
                                  "distinct_id": d, "_timestamp": "2026-03-01 09:00:00",
                                  "inserted_at": "2026-03-01 09:00:00"})
    person(wh, db, "person_distinct_id2", "d1", 11, 1)
    person(wh, db, "person_distinct_id2", "d2", 12, 0)
    person(wh, db, "person_distinct_id2", "d2", 11, 2)             # merged into person 11 (latest version)
    person(wh, db, "person_distinct_id2", "d3", 11, 0)
    person(wh, db, "person_distinct_id2", "d3", 11, 1, deleted=1)  # ... and deleted since
    person(wh, db, "person_distinct_id2", "d4", 14, 0)
    person(wh, db, "person_distinct_id_overrides", "d4", 11, 3)     # an override moves d4 to person 11
    person(wh, db, "person_distinct_id2", "d5", 11, 0)
    person(wh, db, "person_distinct_id_overrides", "d5", 15, 1)     # and d5 away from it
    src = make({"name": "posthog", "kind": "posthog", "database": db})
    r = sync(wh, src)
    assert (r.loaded, r.edges) == (5, 4)  # a:d1 <-> a:d2, a:d1 <-> a:d4
    got = customers(wh)
    assert got["a:d1"] == got["a:d2"] == got["a:d4"] == got["c:c1"] == "c1"
    assert got["a:d3"] == "d3" and got["a:d5"] == "d5"
    # a later merge arrives: the next sync links the person's identifiers again, from the look-back on
    person(wh, db, "person_distinct_id2", "d5", 11, 2, at="2026-03-01 09:30:00")
    person(wh, db, "person_distinct_id_overrides", "d5", 11, 2, at="2026-03-01 09:30:00")
    r = sync(wh, src)
    assert (r.read, r.loaded, r.duplicates, r.edges) == (5, 0, 5, 6)
    assert customers(wh)["a:d5"] == "c1"
    # every edge is committed (folded in with the load's other edges)
    assert wh.scalar("SELECT count() FROM identity_edges WHERE load_id != ''") == 0


def test_rudderstack_aliases_join_customers(wh, upstream):
    db = upstream["rudder"]
    insert(wh, db, "identifies", {"id": "i1", "received_at": "2026-03-01 09:00:00", "user_id": "u1",
                                  "anonymous_id": "anon1", "timestamp": "2026-03-01 09:00:00"})
    insert(wh, db, "identifies", {"id": "i2", "received_at": "2026-03-01 09:01:00", "user_id": "u2",
                                  "timestamp": "2026-03-01 09:01:00"})
    insert(wh, db, "pages", {"id": "p1", "received_at": "2026-03-01 09:02:00", "anonymous_id": "anon9",
                             "timestamp": "2026-03-01 09:02:00"})
    insert(wh, db, "pages", {"id": "p2", "received_at": "2026-03-01 09:02:00", "anonymous_id": "anon3",
                             "timestamp": "2026-03-01 09:02:00"})
    # u2 was a user id (a customer id on events), anon9 an anonymous id
    insert(wh, db, "aliases", {"id": "al1", "received_at": "2026-03-01 09:03:00", "previous_id": "u2",
                               "user_id": "u1", "uuid_ts": "2026-03-01 09:03:01"})
    insert(wh, db, "aliases", {"id": "al2", "received_at": "2026-03-01 09:04:00", "previous_id": "anon9",
                               "user_id": "u1"})
    before = customers(wh)
    assert before == {}
    r = sync(wh, make({"name": "rudder", "kind": "rudderstack", "database": db}))
    assert (r.loaded, r.edges) == (4, 4)
    got = customers(wh)
    assert got["c:u1"] == got["c:u2"] == got["a:anon9"] == got["a:anon1"] == "u1"
    assert got["a:anon3"] == "anon3"
    assert "a:u2" not in got and "c:anon9" not in got  # no identifier that no event has


def test_the_identity_job_increment_merges_on_a_synced_person(wh, md, settings, upstream):
    from seamline.runner import run_jobs

    db = upstream["posthog"]
    src = make({"name": "posthog", "kind": "posthog", "database": db})

    def event(n, d, props, at):
        insert(wh, db, "events", {"uuid": f"00000000-0000-0000-0000-00000000000{n}", "event": "login",
                                  "properties": json.dumps(props), "timestamp": at, "team_id": 1,
                                  "distinct_id": d, "_timestamp": at, "inserted_at": at})

    def keys():
        assert all(r.status == "success" for r in run_jobs(wh, md, settings, ["identity"]))
        return dict(wh.rows("SELECT ident, customer FROM identity_map"))

    event(1, "d1", {"customer_id": "c1"}, "2026-03-01 09:00:00")
    event(2, "d2", {}, "2026-03-01 09:01:00")
    sync(wh, src)
    assert keys()["a:d2"] == "d2"
    # PostHog merges d2 into d1's person as d2 logs in again; the increment (not a full run) joins them
    person(wh, db, "person_distinct_id2", "d1", 11, 0, at="2026-03-01 10:00:00")
    person(wh, db, "person_distinct_id2", "d2", 11, 1, at="2026-03-01 10:00:00")
    event(3, "d2", {}, "2026-03-01 10:00:00")
    assert sync(wh, src).edges == 2
    got = keys()
    assert got["a:d2"] == got["a:d1"] == got["c:c1"] == "c1"
