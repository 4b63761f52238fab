"""Readers never see a half-written rollup (SPEC §4, seamline.publish): a
reader thread keeps reading every job's totals while an increment replaces
rows of many customers and hours, and sees each job's totals as they were
before the run or as they are after it, nothing in between."""

from __future__ import annotations

import threading
import time
from contextlib import nullcontext

import pytest

from seamline import faults, publish
from seamline.load import load_file
from seamline.runner import registry, run_jobs
from seamline.sample import generate
from seamline.warehouse import quote_ident
from test_jobs import _split_file

# columns a rerun writes anew for the same row
_VOLATILE = {"detected_at", "computed_at"}
# a job's switch is held open this long, so that reads fall inside it
_HOLD_S = 0.3


def _totals_sql(wh, job) -> str:
    """One statement reading all the job's tables: (rows, digest) of each."""
    parts = []
    for table in job.outputs + job.extra_outputs:
        if table == "identity_changes":  # a log, appended to, not replaced
            continue
        cols = [quote_ident(n) for n, typ in wh.rows(
            "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
            "AND default_kind != 'ALIAS' ORDER BY position", {"t": table})
            if n not in _VOLATILE and "AggregateFunction" not in typ]
        final = " FINAL" if "Replacing" in wh.scalar(
            "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
            {"t": table}) else ""
        parts.append(f"(SELECT (count(), sum(cityHash64({', '.join(cols)}))) FROM {quote_ident(table)}{final})")
    return "SELECT tuple(" + ", ".join(parts) + ")"


def _totals(wh, queries: dict[str, str]) -> dict[str, tuple]:
    return {name: wh.scalar(sql) for name, sql in queries.items()}


def _hold_switches(monkeypatch) -> None:
    """Keep each switch open between its deletes and its attaches."""
    point = faults.point

    def held(name: str) -> None:
        if name.startswith("job.deleted:") or name == "identity.deleted":
            time.sleep(_HOLD_S)
        point(name)

    monkeypatch.setattr(faults, "point", held)


def _read_during_increment(tmp_path, wh, md, settings, monkeypatch):
    """Half the sample processed, the other half (late events and identity
    merges) loaded; then an increment runs while a thread reads every job's
    totals.  Returns (before, after, what the reader saw)."""
    sample = generate(tmp_path / "events.jsonl.gz", customers=200, days=20, seed=11).path
    first, second = _split_file(sample, tmp_path, parts=2, seed=3)
    load_file(wh, first, settings.hash_salt, progress=False)
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    time.sleep(0.01)
    load_file(wh, second, settings.hash_salt, progress=False)
    queries = {job.name: _totals_sql(wh, job) for job in registry().values()}
    before = _totals(wh, queries)
    seen: list[tuple[str, tuple]] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            for name, sql in queries.items():
                seen.append((name, wh.scalar(sql)))

    thread = threading.Thread(target=reader)
    _hold_switches(monkeypatch)
    thread.start()
    try:
        results = run_jobs(wh, md, settings)
    finally:
        done.set()
        thread.join()
    monkeypatch.undo()
    assert all(r.status == "success" and not r.full for r in results), results
    return before, _totals(wh, queries), seen


def test_a_reader_sees_each_jobs_totals_before_or_after_an_increment(tmp_path, wh, md, settings, monkeypatch):
    before, after, seen = _read_during_increment(tmp_path, wh, md, settings, monkeypatch)
    changed = [name for name in before if before[name] != after[name]]
    assert set(changed) == set(registry()), changed  # the increment rewrote rows of every job
    between = [(name, value) for name, value in seen if value not in (before[name], after[name])]
    assert not between, f"{len(between)} reads saw a half-written rollup, e.g. {between[:2]}"
    assert len(seen) > 5 * len(before)  # the reader kept reading while the jobs ran
    for name in changed:  # ... and saw both states of every job
        assert {before[name], after[name]} <= {v for n, v in seen if n == name}, name


def test_without_the_lock_a_reader_sees_the_switch(tmp_path, wh, md, settings, monkeypatch):
    """The test above can fail: with reads not waiting for switches, the
    reader lands between a switch's deletes and its attaches."""
    monkeypatch.setattr(publish, "reading", nullcontext)
    before, after, seen = _read_during_increment(tmp_path, wh, md, settings, monkeypatch)
    between = {name for name, value in seen if value not in (before[name], after[name])}
    assert len(between) >= 3, between


# The lock itself --------------------------------------------------------------
def _started(target) -> threading.Thread:
    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t


def test_a_switch_waits_for_running_reads_and_holds_new_ones_back():
    events: list[str] = []
    reading, release = threading.Event(), threading.Event()

    def long_read() -> None:
        with publish.reading():
            reading.set()
            release.wait(5)
            events.append("read 1 done")

    def switch() -> None:
        with publish.switching():
            events.append("switch")
            time.sleep(0.05)
            events.append("switch done")

    def late_read() -> None:
        with publish.reading():
            events.append("read 2")

    first = _started(long_read)
    assert reading.wait(5)
    writer = _started(switch)
    time.sleep(0.05)  # the switch waits for the running read
    second = _started(late_read)
    time.sleep(0.05)  # and the new read waits for the switch
    assert events == []
    release.set()
    for t in (first, writer, second):
        t.join(5)
    assert events == ["read 1 done", "switch", "switch done", "read 2"]


def test_a_thread_reading_again_does_not_wait_behind_a_waiting_switch():
    inner_done = threading.Event()
    in_read = threading.Event()

    def nested() -> None:
        with publish.reading():
            in_read.set()
            time.sleep(0.1)  # the switch is waiting by now
            with publish.reading():
                inner_done.set()

    def switch() -> None:
        with publish.switching():
            switched.append(inner_done.is_set())

    switched: list[bool] = []
    t = _started(nested)
    assert in_read.wait(5)
    w = _started(switch)
    t.join(5)
    w.join(5)
    assert inner_done.is_set() and switched == [True]


def test_job_threads_and_switches_do_not_wait_for_themselves():
    with publish.job_thread():
        with publish.reading():  # a job's read: no lock taken
            assert publish._lock._readers == 0
    with publish.switching():
        with publish.reading():  # the switching thread reads inside its switch
            pass
    with publish.reading():
        with pytest.raises(RuntimeError):
            with publish.switching():
                pass
