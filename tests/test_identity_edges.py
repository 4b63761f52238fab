"""Identity edges carry the load batch that wrote them (migration 0013): the
identity job merges customers only on edges of committed loads, a rolled-back
load takes its edges with it, and a committed one folds them in."""

from __future__ import annotations

import threading

import pytest

from eventkit import expand_all, load_events, write_jsonl
from seamline import faults
from seamline.load import load_file
from seamline.runner import run_jobs

T = "2026-03-01T10:00:00.000Z"


def _identity_map(wh) -> dict[str, str]:
    return dict(wh.rows("SELECT ident, customer FROM identity_map"))


def _edges(wh) -> list[tuple]:
    return sorted(wh.rows("SELECT a, b, load_id FROM identity_edges FINAL"))


def test_a_load_in_flight_does_not_merge_customers(tmp_path, wh, md, settings, monkeypatch):
    """A load has written its events (and so its edges) and not committed
    when the identity job runs on another load's batch: the job does not
    merge on the unfinished load's edges, and the load, failing, takes them
    with it.  The map is that of a run without it."""
    load_events(wh, settings, expand_all([{"cust": "K1", "t": T}, {"anon": "dev2", "t": T}]), tmp_path / "z.jsonl")
    assert all(r.status == "success" for r in run_jobs(wh, md, settings, ["identity"]))
    before = _identity_map(wh)
    assert before == {"c:K1": "K1", "a:dev2": "dev2"}

    written, release = threading.Event(), threading.Event()
    point = faults.point

    def pause_in_flight(name: str) -> None:
        if name == "load.events_written" and threading.current_thread().name == "in-flight":
            written.set()
            release.wait(60)
            raise RuntimeError("the load fails after writing its events")
        point(name)

    monkeypatch.setattr(faults, "point", pause_in_flight)
    linking = write_jsonl(tmp_path / "y.jsonl", expand_all([{"id": "y1", "cust": "K1", "anon": "dev2", "t": T,
                                                             "type": "identify"}]))
    failed: list[BaseException] = []

    def in_flight() -> None:
        try:
            load_file(wh, linking, settings.hash_salt, progress=False)
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=in_flight, name="in-flight")
    thread.start()
    try:
        assert written.wait(60)
        in_flight_edges = [e for e in _edges(wh) if e[2]]
        assert ("c:K1", "a:dev2") in [e[:2] for e in in_flight_edges]  # written, tagged with its batch
        # another load commits a batch of K1's, and the identity job runs on it
        load_events(wh, settings, expand_all([{"id": "x1", "cust": "K1", "t": T}]), tmp_path / "x.jsonl")
        assert all(r.status == "success" for r in run_jobs(wh, md, settings, ["identity"]))
        assert _identity_map(wh) == before
    finally:
        release.set()
        thread.join(60)
    assert failed and "fails after writing" in str(failed[0])
    assert [e for e in _edges(wh) if e[2]] == []  # the rollback dropped its edges
    assert ("c:K1", "a:dev2") not in [e[:2] for e in _edges(wh)]
    assert all(r.status == "success" for r in run_jobs(wh, md, settings, ["identity"], full=True))
    assert _identity_map(wh) == before


def test_a_committed_load_folds_its_edges_into_one_untagged_copy(tmp_path, wh, settings):
    events = expand_all([{"cust": "K1", "anon": "d1", "t": T}, {"cust": "K2", "email": "x@example.com", "t": T}])
    load_events(wh, settings, events, tmp_path / "a.jsonl")
    first = _edges(wh)
    assert first and {e[2] for e in first} == {""}
    again = expand_all([{"id": "other", "cust": "K1", "anon": "d1", "t": T}])  # the same edges, another load
    load_events(wh, settings, again, tmp_path / "b.jsonl")
    assert _edges(wh) == first
    partitions = wh.rows("SELECT DISTINCT partition FROM system.parts WHERE database = currentDatabase() "
                         "AND table = 'identity_edges' AND active")
    assert partitions == [("",)]  # no load keeps a partition of its own


def test_migration_0013_tags_the_edges_of_batches_that_did_not_commit(tmp_path, wh, settings):
    from seamline.warehouse.schema import migrate

    load_events(wh, settings, expand_all([{"cust": "K1", "anon": "d1", "t": T}]), tmp_path / "a.jsonl")
    load_events(wh, settings, expand_all([{"id": "b1", "cust": "K2", "anon": "d2", "t": T}]), tmp_path / "b.jsonl")
    committed = sorted(wh.rows("SELECT a, b FROM identity_edges_committed"))
    (uncommitted,) = wh.rows("SELECT load_id FROM events WHERE event_id = 'b1'")[0]
    # a warehouse from before the migration, with the second load as if in flight
    wh.command("DELETE FROM schema_migrations WHERE version = 13")
    wh.command("DROP VIEW identity_edges_mv")
    wh.command("DROP VIEW identity_edges_committed")
    wh.command("DROP TABLE identity_edges")
    wh.command("CREATE TABLE identity_edges (a String, b String) ENGINE = ReplacingMergeTree ORDER BY (a, b)")
    wh.command("INSERT INTO identity_edges SELECT a, b FROM (SELECT 'c:K1' AS a, 'a:d1' AS b)")
    wh.command("ALTER TABLE event_batches DELETE WHERE batch = {b:String} SETTINGS mutations_sync = 2",
               {"b": uncommitted})
    assert migrate(wh) == ["0013_identity_edges_by_load"]
    tagged = {(a, b): load for a, b, load in _edges(wh)}
    assert tagged[("c:K1", "a:d1")] == "" and tagged[("c:K2", "a:d2")] == uncommitted
    assert sorted(wh.rows("SELECT a, b FROM identity_edges_committed")) == [
        e for e in committed if not e[0].startswith("c:K2")]


@pytest.mark.parametrize("twice", [False, True])
def test_migration_0013_completes_when_run_again(tmp_path, wh, settings, twice):
    from seamline.warehouse.schema import migrations

    load_events(wh, settings, expand_all([{"cust": "K1", "anon": "d1", "t": T}]), tmp_path / "a.jsonl")
    edges = _edges(wh)
    (mig,) = [m for m in migrations() if m.version == 13]
    for stmt in mig.statements[: (len(mig.statements) if twice else 3)]:  # stopped part-way (or done)
        wh.command(stmt)
    for stmt in mig.statements:
        wh.command(stmt)
    assert _edges(wh) == edges
    load_events(wh, settings, expand_all([{"id": "n", "cust": "K3", "anon": "d3", "t": T}]), tmp_path / "n.jsonl")
    assert ("c:K3", "a:d3", "") in _edges(wh)  # the view writes again
