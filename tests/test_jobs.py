"""Jobs are incremental and idempotent: incremental == --full on random splits,
a crash mid-run then a retry gives the same rows, re-running changes nothing,
racing runs do not double-count, and the scheduler survives a restart."""

from __future__ import annotations

import gzip
import random
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from seamline import runner
from seamline.load import load_file
from seamline.runner import FULL_RUN_PARTS, SimulatedCrash, key_ranges, plan, registry, run_job, run_jobs
from seamline.jobs import timeline
from seamline.kpis import freshness
from seamline.sample import generate
from seamline.warehouse import sql_text

# Columns that legitimately differ between runs (when a row was computed).
_VOLATILE = {"incidents": ["detected_at"], "data_bounds": ["computed_at"], "freshness_hourly": ["sketch"],
             "freshness_daily": ["sketch"], "freshness_daily_total": ["sketch"]}


def snapshot(wh) -> dict[str, list]:
    out = {}
    for job in registry().values():
        for table in job.outputs + job.extra_outputs:
            if table == "identity_changes":  # a log, not a result
                continue
            skip = _VOLATILE.get(table, [])
            cols = [r[0] for r in wh.rows(
                "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
                "ORDER BY position", {"t": table}) if r[0] not in skip]
            select = ", ".join(f"`{c}`" for c in cols)
            if table in ("freshness_hourly", "freshness_daily", "freshness_daily_total"):
                select += ", arrayMap(x -> round(x, 6), finalizeAggregation(sketch))"
            final = " FINAL" if table in ("incidents", "data_bounds") else ""
            out[table] = wh.rows(f"SELECT {select} FROM `{table}`{final} ORDER BY {', '.join(f'`{c}`' for c in cols)}")
    return out


def _split_file(src, tmp_path, parts: int, seed: int) -> list:
    lines = gzip.open(src, "rt", encoding="utf-8").read().splitlines()
    rng = random.Random(seed)
    rng.shuffle(lines)  # late events: old occurred_at arriving in a later load
    cuts = sorted(rng.sample(range(1, len(lines)), parts - 1))
    return write_parts(tmp_path, [lines[i:j] for i, j in zip([0] + cuts, cuts + [len(lines)])], "part")


def write_parts(tmp_path, chunks: list[list[str]], stem: str) -> list:
    """Each chunk of JSON lines as its own file, ``<stem><k>.jsonl``."""
    paths = []
    for k, chunk in enumerate(chunks):
        p = tmp_path / f"{stem}{k}.jsonl"
        p.write_text("\n".join(chunk) + "\n", encoding="utf-8")
        paths.append(p)
    return paths


def _loaded_then_more(sample, tmp_path, wh, md, settings, seed: int) -> None:
    """Half the sample loaded and processed, the other half loaded (the next
    run is an increment)."""
    parts = _split_file(sample, tmp_path, parts=2, seed=seed)
    load_file(wh, parts[0], settings.hash_salt, progress=False)
    run_jobs(wh, md, settings)
    time.sleep(0.01)  # loaded_at strictly after the previous watermark
    load_file(wh, parts[1], settings.hash_salt, progress=False)


@pytest.fixture
def small_sample(tmp_path):
    return generate(tmp_path / "events.jsonl.gz", customers=80, days=20, seed=11).path


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_equals_full_on_random_splits(seed, small_sample, tmp_path, wh, md, settings):
    for part in _split_file(small_sample, tmp_path, parts=3, seed=seed):
        load_file(wh, part, settings.hash_salt, progress=False)
        results = run_jobs(wh, md, settings)
        assert all(r.status == "success" for r in results), results
        time.sleep(0.01)  # loaded_at strictly after the previous watermark
    incremental = snapshot(wh)
    assert sum(len(v) for v in incremental.values()) > 100
    run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == incremental


def test_a_full_timeline_is_written_in_parts_that_hold_every_event_once(small_sample, tmp_path, wh, md, settings,
                                                                         monkeypatch):
    monkeypatch.setattr(runner, "MIN_RANGE_MARKS", 1)  # ranges on small data
    for part in _split_file(small_sample, tmp_path, parts=3, seed=4):  # table parts, so several index marks
        load_file(wh, part, settings.hash_salt, progress=False)
    run_jobs(wh, md, settings, ["identity"], full=True)
    from seamline.scopes import EventLogCut

    # what the runner gives a full run's statements: the events and keys of one range of identifiers at a time
    cut = EventLogCut(wh, timeline.JOB, True, True, "_scope_none", "_idents_none", "_batches_none",
                      datetime(1970, 1, 1, tzinfo=timezone.utc), {})
    ranges = key_ranges(wh, *timeline.JOB.split_by, FULL_RUN_PARTS)
    assert len(ranges) == FULL_RUN_PARTS and ranges[0][0] == ranges[-1][1] == ""
    sizes = []
    for lo, hi in ranges:  # each statement of a full run, counted
        before = wh.scalar("SELECT count() FROM timeline")
        cut.set_range(lo, hi)
        wh.run_script(sql_text("seamline.jobs", "timeline"), cut.inputs)
        sizes.append(wh.scalar("SELECT count() FROM timeline") - before)
    cut.close()
    assert sum(1 for n in sizes if n) >= 2, sizes  # the ranges really split the events
    expected = wh.rows("SELECT m.customer, e.event_id, e.occurred_at FROM events AS e "
                       "INNER JOIN identity_map AS m ON e.ident = m.ident ORDER BY e.event_id")
    assert len(expected) == wh.scalar("SELECT count() FROM events") == sum(sizes)
    assert wh.rows("SELECT customer, event_id, occurred_at FROM timeline ORDER BY event_id") == expected
    run_jobs(wh, md, settings, ["timeline"], full=True)  # the job itself: the same rows
    assert wh.rows("SELECT customer, event_id, occurred_at FROM timeline ORDER BY event_id") == expected


def test_migration_0010_reads_the_timeline_time_from_ms(small_sample, tmp_path, wh, md, settings):
    from seamline.warehouse.schema import migrate

    _loaded_then_more(small_sample, tmp_path, wh, md, settings, seed=5)
    kind = ("SELECT default_kind, type FROM system.columns WHERE database = currentDatabase() "
            "AND table = 'timeline' AND name = 'occurred_at'")
    assert wh.rows(kind) == [("ALIAS", "DateTime64(3, 'UTC')")]
    timeline_rows = "SELECT customer, ms, event_id, occurred_at FROM timeline ORDER BY customer, ms, event_id"
    written = wh.rows(timeline_rows)
    assert written and wh.scalar("SELECT countIf(toUnixTimestamp64Milli(occurred_at) != ms) FROM timeline") == 0
    # a warehouse from before the migration: occurred_at stored beside ms
    wh.command("DELETE FROM schema_migrations WHERE version = 10")
    wh.command("ALTER TABLE timeline DROP COLUMN occurred_at")
    wh.command("ALTER TABLE timeline ADD COLUMN occurred_at DateTime64(3, 'UTC') "
               "DEFAULT fromUnixTimestamp64Milli(ms, 'UTC') AFTER event_id")
    wh.command("ALTER TABLE timeline MATERIALIZE COLUMN occurred_at SETTINGS mutations_sync = 2")
    wh.command("ALTER TABLE timeline MODIFY COLUMN occurred_at REMOVE DEFAULT")
    assert wh.rows(kind) == [("", "DateTime64(3, 'UTC')")]
    assert migrate(wh) == ["0010_timeline_time_from_ms"]
    assert wh.rows(kind) == [("ALIAS", "DateTime64(3, 'UTC')")]
    assert wh.rows(timeline_rows) == written
    # the increment (timeline slices copy the ALIAS) equals a full run
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    incremental = snapshot(wh)
    run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == incremental


def test_key_ranges_span_at_least_the_least_marks(small_sample, tmp_path, wh, settings, monkeypatch):
    assert key_ranges(wh, "events", "ident", FULL_RUN_PARTS) == [("", "")]  # empty table: one range
    for part in _split_file(small_sample, tmp_path, parts=3, seed=4):
        load_file(wh, part, settings.hash_salt, progress=False)
    marks = wh.scalar("SELECT count() FROM mergeTreeIndex(currentDatabase(), events)")
    assert marks >= FULL_RUN_PARTS
    assert key_ranges(wh, "events", "ident", FULL_RUN_PARTS) == [("", "")]  # small: one range
    monkeypatch.setattr(runner, "MIN_RANGE_MARKS", marks // 2)
    ranges = key_ranges(wh, "events", "ident", FULL_RUN_PARTS)
    assert len(ranges) == 2 and ranges[0][0] == ranges[1][1] == "" and ranges[0][1] == ranges[1][0] != ""


# Cutting a full run into many ranges (one at every 10th key) reruns each job
# ~30 times: the default run does it for one job of each split column, the
# slow run for every job.
MANY_RANGES_SAMPLED = {"timeline", "continuity"}


@pytest.mark.parametrize("many_ranges", ["sampled", pytest.param("every job", marks=pytest.mark.slow)])
def test_a_full_run_in_key_ranges_equals_one_pass(many_ranges, tmp_path, wh, md, settings, monkeypatch):
    monkeypatch.setattr(runner, "MIN_RANGE_MARKS", 1)  # ranges on small data
    sample = generate(tmp_path / "events.jsonl.gz", customers=300, days=20, seed=11).path  # with incidents
    for part in _split_file(sample, tmp_path, parts=3, seed=4):  # table parts, so several index marks
        load_file(wh, part, settings.hash_salt, progress=False)
    run_jobs(wh, md, settings, full=True)
    # jobs cut by key ranges (freshness's passes are shares of the months: its own test above)
    split = [job for job in registry().values() if job.split_by and job.keys == "customer"]
    assert {job.name for job in split} == {"timeline", "continuity", "silence", "retention", "incidents"}
    for job in split:
        table, column = job.split_by
        assert len(key_ranges(wh, table, column, FULL_RUN_PARTS)) == FULL_RUN_PARTS, job.name
        in_ranges = {t: v for t, v in snapshot(wh).items() if t in job.outputs}
        assert all(in_ranges.values()), (job.name, in_ranges.keys())
        if job.name == "incidents":  # every rule template
            assert {row[0] for row in in_ranges["incidents"]} == {r.name for r in settings.active_rules()}
        with monkeypatch.context() as m:  # one range
            m.setattr(runner, "FULL_RUN_PARTS", 1)
            assert run_job(wh, md, settings, job, full=True).status == "success"
        assert {t: v for t, v in snapshot(wh).items() if t in job.outputs} == in_ranges, job.name
        if many_ranges == "sampled" and job.name not in MANY_RANGES_SAMPLED:
            continue
        # many ranges, cut at keys that own output rows: a key at a range's edge counts once
        keys = [r[0] for r in wh.rows("SELECT DISTINCT {c:Identifier} FROM {t:Identifier} ORDER BY 1",
                                      {"c": column, "t": table})]
        owners = {r[0] for t in job.outputs
                  for r in wh.rows("SELECT DISTINCT customer FROM {t:Identifier}", {"t": t})}
        cuts = sorted(set(keys[1::10]) | (owners - {keys[0]} if column == "customer" else set()))
        with monkeypatch.context() as m:
            m.setattr(runner, "key_ranges", lambda *_: list(zip([""] + cuts, cuts + [""])))
            assert run_job(wh, md, settings, job, full=True).status == "success"
        assert {t: v for t, v in snapshot(wh).items() if t in job.outputs} == in_ranges, job.name


def test_a_full_freshness_run_in_parts_of_the_months_equals_one_pass(tmp_path, wh, md, settings):
    path = generate(tmp_path / "events.jsonl.gz", customers=40, days=45, seed=5).path
    load_file(wh, path, settings.hash_salt, progress=False)
    assert wh.scalar("SELECT uniqExact(toYYYYMM(occurred_at)) FROM events") >= 2  # parts with data
    run_jobs(wh, md, settings, ["freshness"], full=True)
    tables = freshness.JOB.outputs + freshness.JOB.extra_outputs
    in_parts = {t: v for t, v in snapshot(wh).items() if t in tables}
    assert wh.scalar("SELECT sum(events) FROM freshness_source_hourly") == wh.scalar("SELECT count() FROM events")
    for t in tables:
        wh.command("TRUNCATE TABLE {t:Identifier}", {"t": t})
    wh.command("CREATE TABLE _no_other_hours AS freshness_hourly")
    params = {"events": "events", "published_freshness_hourly": "_no_other_hours"}  # every month at once
    wh.run_script(sql_text("seamline.jobs", "freshness"), params)
    wh.run_script(sql_text("seamline.jobs", "freshness_daily"), params)
    assert {t: v for t, v in snapshot(wh).items() if t in tables} == in_parts


def test_rerun_changes_nothing(small_sample, wh, md, settings):
    load_file(wh, small_sample, settings.hash_salt, progress=False)
    run_jobs(wh, md, settings)
    first = snapshot(wh)
    run_jobs(wh, md, settings)
    run_jobs(wh, md, settings)
    assert snapshot(wh) == first
    load_file(wh, small_sample, settings.hash_salt, progress=False)  # duplicate load
    run_jobs(wh, md, settings)
    assert snapshot(wh) == first


@pytest.mark.parametrize("phase", ["delete", "statement"])
def test_crash_mid_run_then_retry(phase, small_sample, tmp_path, wh, md, settings):
    _loaded_then_more(small_sample, tmp_path, wh, md, settings, seed=5)
    run_jobs(wh, md, settings, ["identity"])
    for job in plan(None):
        if job.scope == "global":
            continue
        with pytest.raises(SimulatedCrash):
            run_job(wh, md, settings, job, crash_after=phase)
        assert md.runs(job.name, limit=1)[0]["status"] == "failed"
        # the lock was released and the crashed run's batches are not in the
        # ledger: a retry finishes the work (and its dependents have theirs)
        assert run_job(wh, md, settings, job).status == "success"
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    after_retry = snapshot(wh)
    run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == after_retry


def test_customer_jobs_wait_for_identity(small_sample, tmp_path, wh, md, settings):
    """A batch loaded after the identity job ran is left to the next run:
    customer jobs never key events by an identifier the map does not hold."""
    parts = _split_file(small_sample, tmp_path, parts=2, seed=7)
    load_file(wh, parts[0], settings.hash_salt, progress=False)
    run_jobs(wh, md, settings)
    first_events = wh.scalar("SELECT count() FROM events")
    assert wh.scalar("SELECT count() FROM timeline") == first_events
    time.sleep(0.01)
    load_file(wh, parts[1], settings.hash_salt, progress=False)
    for job in plan(None):
        if job.keys == "customer":  # identity has not seen the second batch
            res = run_job(wh, md, settings, job)
            assert res.status == "success", res.error
    assert wh.scalar("SELECT count() FROM timeline") == first_events
    assert wh.scalar("SELECT count() FROM events") > first_events
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    assert wh.scalar("SELECT count() FROM timeline") == wh.scalar("SELECT count() FROM events")
    incremental = snapshot(wh)
    run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == incremental


def test_dependents_take_batches_a_full_dependency_run_recorded(small_sample, tmp_path, wh, md, settings):
    """A full run of a dependency alone records every batch it covered, so its
    dependents' next incremental run is not held back."""
    _loaded_then_more(small_sample, tmp_path, wh, md, settings, seed=8)
    time.sleep(0.01)
    assert all(r.status == "success" for r in run_jobs(wh, md, settings, ["identity"], full=True))
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    assert wh.scalar("SELECT count() FROM timeline") == wh.scalar("SELECT count() FROM events")
    incremental = snapshot(wh)
    run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == incremental


def test_racing_runs_do_not_double_count(small_sample, wh, md, settings):
    load_file(wh, small_sample, settings.hash_salt, progress=False)
    run_jobs(wh, md, settings, ["identity", "timeline"])
    job = registry()["continuity"]
    results = []
    threads = [threading.Thread(target=lambda: results.append(run_job(wh, md, settings, job, full=True)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status for r in results)
    assert "success" in statuses
    once = wh.scalar("SELECT count() FROM transitions")
    run_jobs(wh, md, settings, ["continuity"], full=True)
    assert wh.scalar("SELECT count() FROM transitions") == once


def test_lease_held_by_a_live_run_skips(small_sample, wh, md, settings):
    load_file(wh, small_sample, settings.hash_salt, progress=False)
    owner = md.acquire_lease("job:effort")  # this process is alive: a live holder
    assert owner
    r = run_job(wh, md, settings, registry()["effort"])
    assert r.status == "skipped" and not r.blocked
    assert md.acquire_lease("job:effort") is None
    md.release_lease("job:effort", owner)
    assert run_job(wh, md, settings, registry()["effort"]).status == "success"


def test_failed_job_is_recorded_and_others_run(small_sample, wh, md, settings):
    load_file(wh, small_sample, settings.hash_salt, progress=False)
    wh.command("DROP TABLE surveys")  # effort's output is gone
    results = {r.job: r for r in run_jobs(wh, md, settings)}
    assert results["effort"].status == "failed"
    assert "surveys" in results["effort"].error
    assert all(r.status == "success" for name, r in results.items() if name != "effort")
    last = md.runs("effort", limit=1)[0]
    assert last["status"] == "failed" and last["error"]


def test_dependents_of_a_failed_job_are_skipped(small_sample, wh, md, settings):
    load_file(wh, small_sample, settings.hash_salt, progress=False)
    wh.command("DROP TABLE timeline")  # the timeline job cannot write
    results = {r.job: r for r in run_jobs(wh, md, settings)}
    assert results["timeline"].status == "failed"
    readers = [j.name for j in registry().values() if "timeline" in j.depends_on]
    assert sorted(readers) == ["continuity", "effort", "incidents", "retention", "silence"]
    for name in readers:
        assert results[name].status == "skipped", name
        assert results[name].error.startswith("dependency failed: timeline"), results[name].error
        assert md.runs(name, limit=1)[0]["status"] == "skipped"
    assert results["retention"].error == "dependency failed: timeline, continuity, silence"
    assert results["identity"].status == results["freshness"].status == "success"


def test_jobs_of_one_run_share_scopes_and_leave_no_tables(small_sample, tmp_path, wh, md, settings):
    with gzip.open(small_sample, "rt", encoding="utf-8") as fh:
        events = fh.readlines()
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("".join(events[: len(events) * 2 // 3]), "utf-8")
    second.write_text("".join(events[len(events) * 2 // 3:]), "utf-8")
    load_file(wh, first, settings.hash_salt, progress=False)
    run_jobs(wh, md, settings)
    load_file(wh, second, settings.hash_salt, progress=False)
    results = run_jobs(wh, md, settings)
    scopes = {r.job: r.scope for r in results if registry()[r.job].scope == "customer"}
    assert len(set(scopes.values())) == 1 and next(iter(scopes.values())) > 0, scopes
    left = wh.rows("SELECT name FROM system.tables WHERE database = currentDatabase() "
                   "AND (startsWith(name, '_scope') OR startsWith(name, '_continuity'))")
    assert left == []
    after = snapshot(wh)
    run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == after


def test_a_failing_clean_up_does_not_keep_the_others_tables(small_sample, tmp_path, wh, md, settings, monkeypatch):
    from seamline import scopes

    _loaded_then_more(small_sample, tmp_path, wh, md, settings, seed=6)

    def broken(self):
        raise RuntimeError("the views cannot be dropped")

    monkeypatch.setattr(scopes.CustomerCut, "close", broken)
    results = run_jobs(wh, md, settings)
    assert all(r.status == "success" for r in results), results
    left = {r[0] for r in wh.rows("SELECT name FROM system.tables WHERE database = currentDatabase() "
                                  "AND match(name, '^_(scope|next|window|news|wslice|rekeyed)')")}
    assert left == set()


def _output_mutations(wh, before: frozenset = frozenset()) -> list[tuple]:
    """(table, command) of every mutation on a job's output tables, but those
    in ``before`` (taken before the jobs ran: the schema migrations' own, e.g.
    0010's DROP COLUMN)."""
    outputs = [t for job in registry().values() for t in job.outputs + job.extra_outputs]
    rows = wh.rows("SELECT table, command FROM system.mutations WHERE database = currentDatabase() "
                   "AND table IN {t:Array(String)}", {"t": outputs})
    return [tuple(r) for r in rows if tuple(r) not in before]


def test_incremental_deletes_are_patch_parts_not_mutations(small_sample, tmp_path, wh, md, settings, monkeypatch):
    """A mutation waits for every merge running on its table (seconds at 50 M
    events); an incremental run's DELETEs are written as patch parts instead,
    and reads see them at once."""
    monkeypatch.setattr(runner, "_apply_patches", lambda wh, tables: [])  # patches stay patches
    migrations = frozenset(_output_mutations(wh))
    _loaded_then_more(small_sample, tmp_path, wh, md, settings, seed=9)
    results = run_jobs(wh, md, settings)
    assert all(r.status == "success" for r in results), results
    patched = {r[0] for r in wh.rows("SELECT DISTINCT table FROM system.parts WHERE database = currentDatabase() "
                                     "AND startsWith(name, 'patch-') AND active")}
    assert {"freshness_hourly", "freshness_daily", "customer_days", "journeys"} <= patched, patched
    assert _output_mutations(wh, migrations) == []
    after = snapshot(wh)
    full = run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == after
    counted = {r.job: sum(wh.scalar(f"SELECT count() FROM `{t}`") for t in registry()[r.job].outputs)
               for r in full if registry()[r.job].scope != "global"}
    # a full run reports its outputs' exact row count (read from part metadata)
    assert {r.job: r.rows for r in full if r.job in counted} == counted and sum(counted.values()) > 100


def test_an_increments_patches_are_applied_in_the_background(small_sample, tmp_path, wh, md, settings):
    migrations = frozenset(_output_mutations(wh))
    _loaded_then_more(small_sample, tmp_path, wh, md, settings, seed=9)
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    commands = _output_mutations(wh, migrations)
    assert {"customer_days", "journeys", "freshness_hourly", "freshness_daily"} <= {t for t, _ in commands}, commands
    assert all("APPLY PATCHES" in c for _, c in commands), commands  # the deletes themselves are not mutations
    for _ in range(100):  # the run does not wait for them; the rows are the same before and after
        if not wh.scalar("SELECT count() FROM system.mutations WHERE database = currentDatabase() AND NOT is_done"):
            break
        time.sleep(0.1)
    after = snapshot(wh)
    run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == after


def test_patches_that_cannot_be_applied_do_not_fail_the_job(small_sample, tmp_path, wh, md, settings,
                                                             monkeypatch, caplog):
    _loaded_then_more(small_sample, tmp_path, wh, md, settings, seed=9)
    command = type(wh).command

    def refuse_upkeep(self, sql, parameters=None):  # fault injection: the engine refuses the upkeep
        if "APPLY PATCHES" in sql:
            raise RuntimeError("TABLE_IS_READ_ONLY")
        return command(self, sql, parameters)

    monkeypatch.setattr(type(wh), "command", refuse_upkeep)
    results = run_jobs(wh, md, settings)
    assert all(r.status == "success" for r in results), results
    assert "could not start APPLY PATCHES on customer_days: TABLE_IS_READ_ONLY" in caplog.text
    monkeypatch.undo()
    after = snapshot(wh)
    run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == after


def test_incremental_jobs_run_two_at_a_time_after_their_dependencies(small_sample, tmp_path, wh, md, settings):
    _loaded_then_more(small_sample, tmp_path, wh, md, settings, seed=4)
    seen: list[str] = []
    results = run_jobs(wh, md, settings, on_result=lambda r: seen.append(r.job))
    assert [r.job for r in results] == [j.name for j in plan(None)]  # plan order, whatever finished first
    assert all(r.status == "success" and not r.full for r in results), results
    assert sorted(seen) == sorted(r.job for r in results)
    runs = {r["job"]: r for r in md.runs(limit=len(results))}
    for job in plan(None):
        for dep in job.depends_on:  # a job starts once its dependencies have finished
            assert runs[job.name]["started_at"] >= runs[dep]["finished_at"], (job.name, dep)
    spans = sorted((r["started_at"], r["finished_at"], job) for job, r in runs.items())
    overlapping = [(a[2], b[2]) for a, b in zip(spans, spans[1:]) if b[0] < a[1]]
    assert overlapping, spans  # two jobs were running at once
    after = snapshot(wh)
    run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == after


def test_dependencies_follow_from_inputs_and_outputs():
    # the lists kept by hand before they were derived
    assert {name: job.depends_on for name, job in registry().items()} == {
        "identity": (), "timeline": ("identity",), "freshness": (),
        "continuity": ("identity", "timeline"), "silence": ("identity", "timeline"),
        "effort": ("identity", "timeline"), "retention": ("identity", "timeline", "continuity", "silence"),
        "incidents": ("identity", "timeline")}
    assert [j.name for j in plan(["retention"])] == ["identity", "timeline", "continuity", "silence", "retention"]


def test_the_jobs_sql_says_nothing_about_full_or_incremental_runs(settings):
    # the runner cuts their reads to the run (seamline.scopes: CustomerCut, HourCut, EventLogCut)
    cut = [j for j in registry().values() if j.scope != "global"]
    assert {j.name for j in cut} == {"timeline", "continuity", "silence", "effort", "retention", "incidents",
                                     "freshness"}
    for job in cut:
        for name, _ in job.sql_statements(settings):
            text = sql_text("seamline.jobs", name)
            for word in ("{full:", "{lo:", "{hi:", "{scope:", "PREWHERE"):
                assert word not in text, (name, word)


def test_unknown_job_name():
    with pytest.raises(KeyError):
        plan(["nope"])


def test_scheduler_registers_runs_and_survives_restart(small_sample, wh, md, settings):
    from seamline.scheduler import build_scheduler

    load_file(wh, small_sample, settings.hash_salt, progress=False)
    settings.schedules = {"effort": "*/7 * * * *"}
    sched = build_scheduler(settings)
    try:
        jobs = {j.id: j for j in sched.get_jobs()}
        assert set(jobs) == {f"seamline:{n}" for n in registry()}
        eff = jobs["seamline:effort"]
        assert eff.coalesce is True and eff.max_instances == 1 and eff.misfire_grace_time == 60
        assert "*/7" in str(eff.trigger)
        eff.modify(next_run_time=datetime.now(timezone.utc) + timedelta(milliseconds=200))
        deadline = time.time() + 30
        while time.time() < deadline and not any(r["status"] == "success" for r in md.runs("effort")):
            time.sleep(0.2)
        assert any(r["status"] == "success" for r in md.runs("effort")), "scheduled run did not happen"
        assert wh.scalar("SELECT count() FROM surveys") > 0
    finally:
        sched.shutdown(wait=True)
    # restart: the persisted job store still has every job, with the same ids
    sched = build_scheduler(settings, start=False)
    try:
        assert {j.id for j in sched.get_jobs()} == {f"seamline:{n}" for n in registry()}
    finally:
        sched.shutdown(wait=False)


def test_a_run_drops_what_a_killed_run_of_its_job_left(small_sample, wh, md, settings):
    # a killed run's work: more numbered views than the next run makes, and tables it would not make
    load_file(wh, small_sample, settings.hash_salt, progress=False)
    run_jobs(wh, md, settings)
    for view in ("_cut_effort_0", "_cut_effort_7", "_cut_timeline_3"):
        wh.command(f"CREATE VIEW {view} AS SELECT 1 AS x")
    for table in ("_news_timeline", "_range_silence", "_window_continuity", "_idents_timeline"):
        wh.command(f"CREATE TABLE {table} (x UInt8) ENGINE = Memory")
    wh.command("CREATE TABLE _range_effortless (x UInt8) ENGINE = Memory")  # not a work table of a job
    before = snapshot(wh)
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    left = {r[0] for r in wh.rows("SELECT name FROM system.tables WHERE database = currentDatabase() "
                                  "AND startsWith(name, '_')")}
    assert left == {"_range_effortless"}, left
    assert snapshot(wh) == before
