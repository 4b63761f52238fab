"""Run jobs: dependency order, one lock per job, a ledger of the batches each
job has processed (job_ledger, migration 0014), scoped recompute (the scope's
rows computed again into staging copies, then switched in: seamline.publish),
and a run log.

Idempotence: a run recomputes whole customers / hours, so re-running,
retrying after a crash (a run's batches enter the ledger only on success) or
a full recompute give the same rows.  Two runs racing: the second finds the lock
taken and is recorded as ``skipped``.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from seamline import faults, publish
from seamline.config import Settings
from seamline.jobdef import Job
from seamline.metadata import Metadata
from seamline.scopes import (Cut, CustomerCut, EventLogCut, HourCut, ScopeCache, Window, drop_leftovers,
                             drop_orphans, prepare_batches, prepare_rekeyed, prepare_scope, processed_any)
from seamline.warehouse import Warehouse, quote_ident, sql_text

log = logging.getLogger("seamline.runner")


@dataclass
class RunResult:
    job: str
    status: str
    full: bool
    scope: int | None = None
    rows: int | None = None
    seconds: float = 0.0
    error: str | None = None
    blocked: bool = False  # skipped because a dependency failed (a live run elsewhere is not that)


_process_locks: dict[str, threading.Lock] = {}

# The ranges of keys a full run of a job with ``split_by`` is cut into, and
# the least marks (granules of 8192 rows) a range spans.
FULL_RUN_PARTS = 4
MIN_RANGE_MARKS = 128


def registry() -> dict[str, Job]:
    from seamline.jobs import JOBS

    return JOBS


def plan(names: list[str] | None) -> list[Job]:
    """The jobs to run, dependencies first (each once)."""
    jobs = registry()
    wanted = names or list(jobs)
    unknown = [n for n in wanted if n not in jobs]
    if unknown:
        raise KeyError(f"unknown job(s): {', '.join(unknown)}; known: {', '.join(jobs)}")
    order: list[Job] = []

    def visit(name: str) -> None:
        job = jobs[name]
        for dep in job.depends_on:
            visit(dep)
        if job not in order:
            order.append(job)

    for n in wanted:
        visit(n)
    return order


# Independent jobs of an incremental call run two at a time: an increment is
# mostly small statements that leave a core idle, so two jobs overlap well.
INCREMENT_WORKERS = 2


def run_jobs(wh: Warehouse, md: Metadata, settings: Settings, names: list[str] | None = None,
             full: bool = False, on_result: Callable[[RunResult], None] | None = None,
             workers: int | None = None) -> list[RunResult]:
    """Run ``names`` (default: every job) with their dependencies; a job
    starts once its dependencies have finished.  A job whose dependency failed
    is not run (recorded as ``skipped``).  Jobs of one call share the scopes
    they have in common (see ``ScopeCache``).  ``workers`` jobs run at once:
    by default ``INCREMENT_WORKERS`` when every job has processed batches
    before and ``full`` is off, else one (a full run's statements already use every core,
    and their memory would add up).  Results come back in plan order;
    ``on_result`` sees each as it finishes."""
    order = plan(names)
    drop_orphans(wh)
    if workers is None:
        workers = 1 if full or not all(processed_any(wh, j) for j in order) else INCREMENT_WORKERS
    done: dict[str, RunResult] = {}
    cache = ScopeCache(wh)

    def run_one(job: Job) -> RunResult:
        # a dependency skipped because a live run of it holds it is no failure:
        # this job only takes the batches its dependencies have processed
        broken = [d for d in job.depends_on if done[d].status == "failed" or done[d].blocked]
        if broken:
            result = RunResult(job.name, "skipped", full, error=f"dependency failed: {', '.join(broken)}",
                               blocked=True)
            md.record_run(job.name, full, "skipped", error=result.error)
            return result
        # --full recomputes the named jobs; their dependencies run incrementally
        return run_job(wh, md, settings, job, full=full and (not names or job.name in names), scopes=cache)

    def finish(result: RunResult) -> None:
        done[result.job] = result
        if workers <= 1 and full:  # a full run's jobs each peak high: start the next from a clean slate
            wh.release_memory()
        if on_result:
            on_result(result)

    try:
        if workers <= 1:
            for job in order:
                finish(run_one(job))
        else:
            from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

            waiting, running = list(order), {}
            with ThreadPoolExecutor(max_workers=workers) as pool:
                while waiting or running:
                    for job in [j for j in waiting if all(d in done for d in j.depends_on)]:
                        waiting.remove(job)
                        running[pool.submit(run_one, job)] = job
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        del running[future]
                        finish(future.result())
    finally:
        cache.close()
    return [done[j.name] for j in order]


def run_job(wh: Warehouse, md: Metadata, settings: Settings, job: Job, full: bool = False,
            crash_after: str | None = None, scopes: ScopeCache | None = None) -> RunResult:
    """Run one job.  ``crash_after`` (tests only) raises after that phase.

    The job's lease (metadata ``leases``) keeps two runs apart; a live
    holder means this run is ``skipped`` (not a failure), a dead one (its
    process was killed) is taken over at once: its run is recorded as
    ``interrupted`` and this run redoes it (a full one in full)."""
    plock = _process_locks.setdefault(job.name, threading.Lock())
    if not plock.acquire(blocking=False):
        return RunResult(job.name, "skipped", full, error="already running in this process")
    try:
        with publish.job_thread():
            return _run_leased(wh, md, settings, job, full, crash_after, scopes)
    finally:
        plock.release()


def _run_leased(wh: Warehouse, md: Metadata, settings: Settings, job: Job, full: bool,
                crash_after: str | None, scopes: ScopeCache | None) -> RunResult:
    lease = f"job:{job.name}"
    owner = md.acquire_lease(lease)
    if owner is None:
        error = "another live run of this job holds it"
        md.record_run(job.name, full, "skipped", error=error)
        return RunResult(job.name, "skipped", full, error=error)
    faults.point("job.leased")
    try:
        for dead in md.interrupt_runs(job.name):
            log.warning("job %s: run %s (started %s) was interrupted; this run redoes it",
                        job.name, dead["id"], dead["started_at"])
        return _run_locked(wh, md, settings, job, full or md.unfinished_full(job.name), crash_after, scopes)
    finally:
        md.release_lease(lease, owner)


def _retarget(text: str, writes: dict[str, str], reads: dict[str, str] | None = None) -> str:
    """A job's SQL with its own output tables replaced by the run's copies
    of them, where a table name stands: ``writes`` after INTO, ``reads``
    (default: ``writes``) after FROM / JOIN.  A column may share a table's
    name (``contacts``)."""
    reads = writes if reads is None else reads
    for words, tables in (("INTO", writes), ("FROM|JOIN", reads)):
        for table, copy in tables.items():
            text = re.sub(rf"\b({words})(\s+){re.escape(table)}\b(?![.`])", rf"\1\2{copy}", text)
    return text


FULL_COPY_PREFIX = "_full_"
STAGE_PREFIX = "_next_"


def _run_locked(wh: Warehouse, md: Metadata, settings: Settings, job: Job, full: bool,
                crash_after: str | None, scopes: ScopeCache | None) -> RunResult:
    started = datetime.now(timezone.utc)
    full_mode = full or not processed_any(wh, job)
    run_id = md.start_run(job.name, full_mode)
    drop_leftovers(wh, job)  # a killed run's work tables (it held this lease; its holder is gone)
    faults.point(f"job.started:{job.name}")
    scope_t, batches_t, rekeyed_t = f"_scope_{job.name}", f"_scope_batches_{job.name}", f"_rekeyed_{job.name}"
    idents_t = f"_idents_{job.name}"
    # The job's SQL writes copies of its tables, and readers see the change
    # only when it is complete (seamline.publish): a full run writes fresh
    # copies and swaps each in (EXCHANGE TABLES), and a killed full run
    # leaves the old ones (a cluster keeps TRUNCATE: its replicated copies
    # would need replication paths of their own); an increment stages its
    # scope's new rows and then switches them in.
    tables = job.outputs + job.extra_outputs
    if job.scope == "global" or (full_mode and wh.cluster):
        copies: dict[str, str] = {}
    else:
        copies = {t: (FULL_COPY_PREFIX if full_mode else STAGE_PREFIX) + t for t in tables}
    own_cache = scopes is None
    scopes = scopes or ScopeCache(wh)
    cut: Cut | None = None
    window: Window | None = None
    try:
        # Batches this run covers: for a full run every batch so far (all get
        # recorded: its dependents wait for them); else the ones it has not processed.
        new_batches, since = prepare_batches(wh, job, batches_t, full_mode, started)
        if job.scope == "global":
            rows = job.run(wh, settings, full_mode, batches_t, since) if (full_mode or new_batches) else 0
            scope = None
        else:
            scope, cache_key = prepare_scope(wh, job, scope_t, batches_t, full_mode, since, scopes)
            # an event log replaces only its re-keyed customers; others replace the whole scope
            doomed = (prepare_rekeyed(wh, rekeyed_t, idents_t, batches_t, full_mode) if job.scope == "event_log"
                      else scope_t)
            if full_mode or scope:
                for table in tables:
                    if table in copies:
                        publish.make_stage(wh, table, copies[table])
                    else:
                        wh.command("TRUNCATE TABLE {t:Identifier}", {"t": table})
                base = {f"published_{t}": t for t in tables}  # the tables as readers see them
                whole = [("", "")]  # one pass: an increment (its scope), or a file without a range
                ranges = key_ranges(wh, *job.split_by, FULL_RUN_PARTS) if full_mode and job.split_by else whole
                if job.scope == "hour":
                    cut = HourCut(wh, job, full_mode, scope_t, copies)
                    ranges = cut.ranges
                elif job.scope == "event_log":
                    cut = EventLogCut(wh, job, full_mode, ranges != whole, scope_t, idents_t, batches_t, since,
                                      copies)
                else:  # a customer job
                    timeline = lambda: scopes.slice(cache_key, scope_t)  # noqa: E731
                    if job.window and not full_mode:
                        history = scopes.slice(cache_key, scope_t)
                        window = Window(wh, job, _statement_params(job, settings),
                                        scopes.news(cache_key, scope_t, batches_t, since), history)
                        timeline = lambda: window.timeline(history)  # noqa: E731
                    cut = CustomerCut(wh, job, full_mode, ranges != whole, scope_t, timeline, copies)
                base |= cut.inputs | cut.published
                for name, params in job.sql_statements(settings):
                    text = sql_text("seamline.jobs", name)
                    per_range = cut.reads_cut(text)
                    text = _retarget(text, copies, cut.reads_for(per_range))
                    for lo, hi in ranges if per_range else whole:
                        if (lo, hi) != ("", ""):
                            cut.set_range(lo, hi)
                        wh.run_script(text, base | params)
                        _maybe_crash(crash_after, "statement")
                        faults.point(f"job.statement:{job.name}")
            if full_mode:
                with publish.switching():  # a job's tables change together
                    for table, copy in copies.items():
                        wh.command(f"EXCHANGE TABLES {quote_ident(table)} AND {quote_ident(copy)}")
                        faults.point(f"job.exchanged:{job.name}")
                for copy in copies.values():
                    wh.command("DROP TABLE IF EXISTS {c:Identifier}", {"c": copy})
            elif scope:
                if window:
                    window.trim(copies)
                _switch(wh, job, copies, scope_t, doomed, crash_after, window)
            rows = _stored_rows(wh, job.outputs)
        if not full_mode:
            _apply_patches(wh, tables)
        wh.command("INSERT INTO job_ledger SELECT {job:String}, batch, now64(3) FROM {b:Identifier}",
                   {"job": job.name, "b": batches_t})
        faults.point(f"job.recorded:{job.name}")
        # the run log's watermark says what the run's data is as of (jobs status);
        # what the next run does is the ledger's
        md.finish_run(run_id, "success", rows=rows, scope=scope, watermark=started)
        seconds = (datetime.now(timezone.utc) - started).total_seconds()
        return RunResult(job.name, "success", full_mode, scope, rows, round(seconds, 3))
    except BaseException as exc:
        err = f"{type(exc).__name__}: {exc}"
        md.finish_run(run_id, "failed", error=err[:4000] + "\n" + traceback.format_exc()[-4000:])
        if not isinstance(exc, Exception):
            raise
        seconds = (datetime.now(timezone.utc) - started).total_seconds()
        return RunResult(job.name, "failed", full_mode, seconds=round(seconds, 3), error=err.splitlines()[0][:500])
    finally:
        # each clean-up on its own: one that fails (the engine gone, a table
        # held) must not leave the others' tables behind
        cleanups = [cut.close if cut else None, window.drop if window else None]
        cleanups += [lambda t=t: wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": t})
                     for t in (scope_t, batches_t, rekeyed_t, idents_t, *copies.values())]
        if own_cache:
            cleanups.append(scopes.close)
        for cleanup in cleanups:
            try:
                if cleanup:
                    cleanup()
            except Exception:
                log.debug("job %s: clean-up failed", job.name, exc_info=True)


def _statement_params(job: Job, settings: Settings) -> dict:
    """The parameters of the job's statements (its windows, for its window file)."""
    return {k: v for _, params in job.sql_statements(settings) for k, v in params.items()}


def _switch(wh: Warehouse, job: Job, stages: dict[str, str], scope_t: str, doomed: str,
            crash_after: str | None, window: Window | None = None) -> None:
    """Replace the scope's rows with the staged ones, as one change for
    readers (seamline.publish): the old rows of the ``doomed`` keys are
    deleted (lightweight deletes: patch parts) - with a ``window``, those
    from each customer's point in time on - and the stages' parts are
    attached.  Everything a statement here needs is read before readers are
    held back, so they wait for the deletes and attaches only."""
    key = "hour" if job.scope == "hour" else "customer"
    deletes = []
    conditions: dict[str, str] = {}
    if window is not None:
        conditions = {t: window.replaced(column) for t, column in job.window_columns}
    elif doomed == scope_t or wh.scalar("SELECT count() FROM {t:Identifier}", {"t": doomed}):
        deletes += [(t, key, doomed, "") for t in job.outputs]
    types = {(t, c): typ for t, c, typ in wh.rows(
        "SELECT table, name, type FROM system.columns WHERE database = currentDatabase() "
        "AND (table, name) IN {k:Array(Tuple(String, String))}", {"k": list(job.keyed_by)})} if job.keyed_by else {}
    deletes += [(t, column, scope_t, types[(t, column)]) for t, column in job.keyed_by]
    partitions = {table: publish.staged_partitions(wh, stage) for table, stage in stages.items()}
    with publish.switching():
        for table, condition in conditions.items():
            wh.command(f"DELETE FROM {quote_ident(table)} WHERE {condition}")
        for table, column, keys, cast in deletes:
            keyed = "CAST(key, {type:String})" if cast else "key"
            wh.command(f"DELETE FROM {quote_ident(table)} WHERE {quote_ident(column)} IN "
                       f"(SELECT {keyed} FROM {quote_ident(keys)})", {"type": cast} if cast else None)
        _maybe_crash(crash_after, "delete")
        faults.point(f"job.deleted:{job.name}")
        for table, stage in stages.items():
            publish.add_staged(wh, table, stage, partitions[table])
        faults.point(f"job.switched:{job.name}")


def key_ranges(wh: Warehouse, table: str, column: str, parts: int) -> list[tuple[str, str]]:
    """About equal ranges [lo, hi) of the first column of a table's primary
    key (hi '' is unbounded), cut at quantiles of the primary index's marks -
    a key per granule, read without reading the table (a few ms at 50 M rows).
    A range spans at least ``MIN_RANGE_MARKS`` marks, so a small table is one
    range (a range is a statement: on small data its fixed cost outweighs
    the memory it saves)."""
    cuts = wh.scalar(
        "SELECT arrayMap(p -> marks[intDiv(length(marks) * p, n) + 1], range(1, n)) "
        "FROM (SELECT arraySort(groupArray({column:Identifier})) AS marks, "
        "             greatest(1, least({parts:UInt32}, intDiv(length(marks), {min_marks:UInt32}))) AS n "
        "      FROM mergeTreeIndex(currentDatabase(), {table:Identifier}))",
        {"parts": parts, "column": column, "table": table, "min_marks": MIN_RANGE_MARKS})
    cuts = sorted({c for c in cuts if c})  # '' is the least key: a range below it is empty
    return list(zip([""] + cuts, cuts + [""]))


def _stored_rows(wh: Warehouse, tables: tuple[str, ...]) -> int:
    """Rows stored in ``tables``, from their parts' metadata: exact after a
    full run; after an incremental one it still counts the rows deleted since
    the table's last merge.  A count() must apply the DELETEs' patch parts,
    which at 50 M events took 0.35 s of a 2.6 s hourly increment."""
    return int(wh.scalar("SELECT sum(rows) FROM system.parts WHERE database = currentDatabase() "
                         "AND table IN {t:Array(String)} AND active AND NOT startsWith(name, 'patch-')",
                         {"t": list(tables)}) or 0)


def _apply_patches(wh: Warehouse, tables: tuple[str, ...]) -> list[str]:
    """Start ``APPLY PATCHES`` (a background mutation the run does not wait
    for) on the tables with patch parts and no mutation running; returns
    their names.  An increment's DELETEs are patch parts, and every read
    applies them until a merge of the parts they patch does; the old, large
    parts of a big table are rarely merged.  At 50 M events, patches for 0.5 %
    of the customers doubled a scan of `customer_days` (0.30 -> 0.58 s);
    applying them took 0.5 s in the background and brought it back.  This is
    upkeep: a table it cannot start on is logged, and the job still succeeds
    (its rows are written; the next run tries again)."""
    due = [r[0] for r in wh.rows(
        "SELECT DISTINCT table FROM system.parts WHERE database = currentDatabase() AND active "
        "AND table IN {t:Array(String)} AND startsWith(name, 'patch-') "
        "AND table NOT IN (SELECT table FROM system.mutations WHERE database = currentDatabase() AND NOT is_done)",
        {"t": list(tables)})]
    started = []
    for table in due:
        try:
            wh.command(f"ALTER TABLE {quote_ident(table)} APPLY PATCHES SETTINGS mutations_sync = 0")
            started.append(table)
        except Exception as exc:
            log.warning("could not start APPLY PATCHES on %s: %s", table, str(exc).splitlines()[0][:300])
    return started


class SimulatedCrash(BaseException):
    """Raised by tests to stop a job mid-run the way a kill would."""


def _maybe_crash(crash_after: str | None, phase: str) -> None:
    if crash_after == phase:
        raise SimulatedCrash(phase)
