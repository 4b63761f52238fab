"""Lossless, idempotent loading of canonical events (SPEC §1).

Python only streams rows (file, line, text) in batches into a staging table;
ClickHouse parses, validates, normalises, hashes and deduplicates them
(``sql/load_parse.sql``).  Every row ends in exactly one of: loaded,
duplicate, quarantined — so ``read = loaded + duplicates + quarantined``.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from seamline.readers import LoadError, Row, damage_of, detect_format, iter_rows  # noqa: F401 (LoadError re-exported)
from seamline import faults
from seamline.liveness import HEARTBEAT, Holder, alive
from seamline.progress import Progress
from seamline.warehouse import Warehouse, quote_ident, split_statements, sql_text

log = logging.getLogger("seamline.load")

_PARSED_COLUMNS = """
    line UInt64, raw String, event_id String, occurred_at Nullable(DateTime64(3, 'UTC')),
    ingested_at DateTime64(3, 'UTC'), source String, channel String, direction String, type String,
    ident String, customer_id String, anonymous_id String, email_hash String, phone_hash String,
    topic String, case_id String, attrs Map(String, String), reason String
"""


@dataclass
class LoadReport:
    file: str
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    seconds: float = 0.0
    error: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


# Loading ---------------------------------------------------------------------
STAGING_PREFIX = "_load_"


class _Intent:
    """A load in progress, recorded before it writes anything (load_intents):
    who runs it, refreshed by a heartbeat while it works.  The load commits
    by writing its batches to event_batches; one that never commits is rolled
    back, by itself on an error, or by ``recover_loads`` once its process is
    gone (a kill)."""

    def __init__(self, wh: Warehouse, load_id: str, file_key: str):
        self.wh, self.load_id, self.file_key = wh, load_id, file_key
        self.owner = Holder.me().owner
        self.started = datetime.now(timezone.utc)
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def write(self, state: str) -> None:
        self.wh.insert("load_intents", [[self.load_id, self.file_key, self.owner, self.started,
                                         datetime.now(timezone.utc), state]],
                       ["load_id", "file", "owner", "started_at", "heartbeat_at", "state"])

    def __enter__(self) -> "_Intent":
        self.write("running")
        faults.point("load.intent")
        self._beat = threading.Thread(target=self._heartbeat, name="seamline-load-heartbeat", daemon=True)
        self._beat.start()
        return self

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT.total_seconds()):
            try:
                self.write("running")
            except Exception:  # a missed beat only matters to another host after several
                pass

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()


def _commit(wh: Warehouse, intent: _Intent, batches: list[tuple[str, datetime]], report: LoadReport,
            start_ts: datetime) -> None:
    """Make the load's batches visible to the jobs (one insert: the commit), then record the load."""
    now = datetime.now(timezone.utc)
    faults.point("load.commit")
    if batches:
        wh.insert("event_batches", [[b, at, now] for b, at in batches], ["batch", "loaded_at", "committed_at"])
    faults.point("load.committed")
    fold_edges(wh, intent.load_id)
    wh.insert("loads", [[intent.load_id, intent.file_key, start_ts, now, report.read, report.loaded,
                         report.duplicates, report.quarantined]],
              ["load_id", "file", "started_at", "finished_at", "read", "loaded", "duplicates", "quarantined"])
    intent.write("committed")


def _run_load_sql(wh: Warehouse, name: str, load_id: str, point: str) -> None:
    from seamline.warehouse.schema import render_ddl

    params = {"load": load_id, "prefix": f"{load_id}-"}
    for stmt in split_statements(sql_text("seamline.sql", name)):
        wh.command(render_ddl(stmt, wh.cluster), {k: v for k, v in params.items() if "{" + k + ":" in stmt})
        faults.point(point)


def rollback_load(wh: Warehouse, load_id: str) -> None:
    """Remove every row a load wrote (sql/load_rollback.sql) and its staging tables."""
    _run_load_sql(wh, "load_rollback", load_id, "load.rollback_step")
    _drop_staging(wh, load_id)


def fold_edges(wh: Warehouse, load_id: str) -> None:
    """Once a load has committed: its identity edges, tagged with its batches
    until now, join the untagged ones (sql/load_fold_edges.sql).  Jobs see
    them either way (their batches are committed); the fold keeps each edge
    once and the load's partition from staying."""
    _run_load_sql(wh, "load_fold_edges", load_id, "load.fold_step")


def _staging_tables(wh: Warehouse, load_id: str = "") -> list[str]:
    """The staging tables of one load, or of every load."""
    pattern = f"{STAGING_PREFIX}{load_id}%".replace("_", "\\_")
    return [name for (name,) in wh.rows("SELECT name FROM system.tables WHERE database = currentDatabase() "
                                        "AND name LIKE {p:String}", {"p": pattern})]


def _drop_staging(wh: Warehouse, load_id: str) -> None:
    for name in _staging_tables(wh, load_id):
        wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": name})


def recover_loads(wh: Warehouse) -> list[str]:
    """Roll back every load whose process is gone and that did not commit,
    and drop staging tables no live load owns; returns the loads rolled back.

    A load that wrote its batches to event_batches (or its ``loads`` row) but
    was killed before recording it has committed: its identity edges are
    folded in (``fold_edges``) and it is marked so, not undone."""
    intents = wh.rows(
        "SELECT load_id, argMax(owner, heartbeat_at), max(heartbeat_at), argMax(state, heartbeat_at) "
        "FROM load_intents GROUP BY load_id HAVING argMax(state, heartbeat_at) = 'running'")
    live, undone = set(), []
    for load_id, owner, beat, _ in intents:
        if alive(Holder.parse(owner), beat):
            live.add(load_id)
            continue
        committed = wh.scalar(
            "SELECT (SELECT count() FROM event_batches WHERE startsWith(batch, {p:String})) "
            "     + (SELECT count() FROM loads WHERE load_id = {id:String})", {"p": f"{load_id}-", "id": load_id})
        intent = _Intent(wh, load_id, "")
        intent.owner, intent.started = owner, beat
        if committed:
            fold_edges(wh, load_id)
            intent.write("committed")
            continue
        log.warning("rolling back load %s: its process is gone and it did not commit", load_id)
        rollback_load(wh, load_id)
        intent.write("rolled_back")
        undone.append(load_id)
    # staging tables of loads that are not running (a Memory table survives a
    # restart empty, a MergeTree stage with its rows)
    for name in _staging_tables(wh):
        if name[len(STAGING_PREFIX):len(STAGING_PREFIX) + 32] not in live:
            wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": name})
    return undone


class _Staging:
    """Per-load Memory tables, dropped when the load ends: the raw rows, and
    two tables of parsed rows so one batch is parsed while the one before it
    is written."""

    def __init__(self, wh: Warehouse, load_id: str):
        self.wh = wh
        # named by the load, so a killed load's tables are found and dropped (recover_loads)
        self.stage = f"{STAGING_PREFIX}{load_id}_stage"
        self.parsed_tables = (f"{STAGING_PREFIX}{load_id}_parsed0", f"{STAGING_PREFIX}{load_id}_parsed1")

    def __enter__(self) -> "_Staging":
        q = quote_ident
        self.wh.command(f"CREATE TABLE {q(self.stage)} (line UInt64, doc String, raw String) ENGINE = Memory")
        for t in self.parsed_tables:
            self.wh.command(f"CREATE TABLE {q(t)} ({_PARSED_COLUMNS}) ENGINE = Memory")
        return self

    def __exit__(self, *exc) -> None:
        for t in (self.stage, *self.parsed_tables):
            try:
                self.wh.command(f"DROP TABLE IF EXISTS {quote_ident(t)}")
            except Exception:
                pass


def load_file(wh: Warehouse, path: str | Path, salt: str, batch_rows: int = 200_000,
              progress: bool | None = None, warn: Callable[[str], None] = lambda _: None) -> LoadReport:
    """Load one file; raises LoadError for a missing, unreadable or empty file."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"{path}: no such file")
    if path.is_dir():
        raise LoadError(f"{path}: is a directory")
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise LoadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size == 0:
        raise LoadError(f"{path}: empty file (no rows)")

    file_key = str(path.resolve())
    report = LoadReport(file=str(path))
    started = time.monotonic()
    load_id = uuid.uuid4().hex
    bar = Progress(path.name, size, progress)
    parse_sql = split_statements(sql_text("seamline.sql", "load_parse"))
    start_ts = datetime.now(timezone.utc)
    batch_no = itertools.count(1)
    batches: list[tuple[str, datetime]] = []  # (batch id, load time) of the batches that stored events
    recover_loads(wh)  # a killed load before this one is undone first: it may hold this file's rows
    try:
        with _Intent(wh, load_id, file_key) as intent:
            try:
                with _Staging(wh, load_id) as st:
                    staged = _stage_in_engine(wh, st, path) if _engine_can_read(wh, path) else None
                    if staged is not None:  # ClickHouse read the file itself: process it by line ranges
                        ranges = iter(range(1, staged + 1, batch_rows))

                        def prepare(parsed: str) -> tuple[datetime, bool] | None:
                            lo = next(ranges, None)
                            if lo is None:
                                return None
                            return (_parse_batch(wh, st, parsed, parse_sql, salt, lo, lo + batch_rows),
                                    lo + batch_rows > staged)

                        def done() -> None:
                            bar.update(int(size * min(report.read, staged) / max(staged, 1)), f"{report.read:,} rows")

                        _pipeline(wh, st, parse_sql, load_id, batch_no, file_key, report, prepare, done, batches)
                    else:
                        _load_streamed(wh, st, path, parse_sql, salt, load_id, batch_no, file_key, report,
                                       batch_rows, bar, warn, batches)
                if report.read == 0:
                    raise LoadError(report.error or f"{path}: empty file (no rows)")
                report.seconds = round(time.monotonic() - started, 3)
                _commit(wh, intent, batches, report, start_ts)
            except BaseException:
                # nothing of a failed load stays (a kill is undone by recover_loads instead)
                try:
                    rollback_load(wh, load_id)
                    intent.write("rolled_back")
                except Exception as exc:
                    log.warning("could not roll back load %s now (the next start does): %s", load_id, exc)
                raise
    finally:
        bar.close()
        wh.release_memory()  # the jobs that follow a load start without its batches' memory
    return report


# Rows staged by a statement (sources in place) -------------------------------
# Their lines are 63-bit row keys (stable, so a row quarantined again replaces
# its earlier copy); batches are equal ranges of the key space.
LINE_SPACE = 2**63


def load_staged(wh: Warehouse, file_key: str, salt: str, stage: Callable[[str], int], batch_rows: int = 200_000,
                before_commit: Callable[[str], list[str]] | None = None) -> LoadReport:
    """Load rows that a statement writes into the stage, with every guarantee
    of ``load_file`` (validation, deduplication, quarantine, counts, commit,
    rollback, recovery after a kill).

    ``stage(table)`` fills the stage table (line UInt64 < 2**63, doc, raw),
    inside the engine, and returns how many rows it staged.  ``before_commit(load_id)``
    writes what else belongs to the load (identity edges tagged with the
    batches it returns) before the commit makes it visible.  A load of no rows
    is recorded with zero counts."""
    report = LoadReport(file=file_key)
    started = time.monotonic()
    load_id = uuid.uuid4().hex
    parse_sql = split_statements(sql_text("seamline.sql", "load_parse"))
    start_ts = datetime.now(timezone.utc)
    batch_no = itertools.count(1)
    batches: list[tuple[str, datetime]] = []
    recover_loads(wh)
    try:
        with _Intent(wh, load_id, file_key) as intent:
            try:
                with _Staging(wh, load_id) as st:
                    wh.command(f"DROP TABLE IF EXISTS {quote_ident(st.stage)}")
                    wh.command(f"CREATE TABLE {quote_ident(st.stage)} (line UInt64, doc String, raw String) "
                               "ENGINE = MergeTree ORDER BY line")
                    _no_merges(wh, st.stage)
                    staged = stage(st.stage)
                    faults.point("load.staged")
                    if staged:
                        parts = max(1, -(-staged // batch_rows))
                        bounds = iter([(i * LINE_SPACE // parts, (i + 1) * LINE_SPACE // parts, i == parts - 1)
                                       for i in range(parts)])

                        def prepare(parsed: str) -> tuple[datetime, bool] | None:
                            got = next(bounds, None)
                            if got is None:
                                return None
                            lo, hi, last = got
                            return _parse_batch(wh, st, parsed, parse_sql, salt, lo, hi), last

                        _pipeline(wh, st, parse_sql, load_id, batch_no, file_key, report, prepare, lambda: None,
                                  batches)
                if before_commit is not None:
                    now = datetime.now(timezone.utc)
                    batches.extend((b, now) for b in before_commit(load_id))
                report.seconds = round(time.monotonic() - started, 3)
                _commit(wh, intent, batches, report, start_ts)
            except BaseException:
                try:
                    rollback_load(wh, load_id)
                    intent.write("rolled_back")
                except Exception as exc:
                    log.warning("could not roll back load %s now (the next start does): %s", load_id, exc)
                raise
    finally:
        wh.release_memory()
    report.load_id = load_id
    return report


def _engine_can_read(wh: Warehouse, path: Path) -> bool:
    """Embedded chDB sees our files: it reads JSON Lines itself (much faster)."""
    return wh.dsn.startswith("chdb:") and detect_format(path) == "jsonl"


def _no_merges(wh: Warehouse, table: str) -> None:
    """The stage lives for one load and is read by line ranges: merging its
    parts would only rewrite the whole file once more (best effort: a user
    without the SYSTEM privilege still loads)."""
    try:
        wh.command(f"SYSTEM STOP MERGES {quote_ident(table)}")
    except Exception:
        pass


def _stage_in_engine(wh: Warehouse, st: "_Staging", path: Path) -> int | None:
    """Stage every line of the file with its line number; None when the engine
    cannot read it (e.g. a corrupt gzip), so the streamed path reports exactly
    where reading stopped."""
    with open(path, "rb") as fh:
        compression = "gzip" if fh.read(2) == b"\x1f\x8b" else "none"
    try:
        wh.command(f"DROP TABLE IF EXISTS {quote_ident(st.stage)}")
        wh.command(f"CREATE TABLE {quote_ident(st.stage)} (line UInt64, doc String, raw String) "
                   "ENGINE = MergeTree ORDER BY line")
        _no_merges(wh, st.stage)
        wh.command(sql_text("seamline.sql", "load_stage_file"),
                   {"stage": st.stage, "path": str(path.resolve()), "compression": compression})
        faults.point("load.staged")
    except Exception:
        wh.command(f"TRUNCATE TABLE {quote_ident(st.stage)}")
        return None
    return int(wh.scalar("SELECT max(line) FROM {stage:Identifier}", {"stage": st.stage}) or 0)


def _load_streamed(wh: Warehouse, st: "_Staging", path: Path, parse_sql: list[str], salt: str, load_id: str,
                   batch_no, file_key: str, report: LoadReport, batch_rows: int, bar: Progress,
                   warn: Callable[[str], None], batches: list[tuple[str, datetime]]) -> None:
    """Python reads the file (CSV, Parquet, or any format for a server) in
    batches; the next batch is read and parsed while the current one is written."""
    read_so_far = 0
    rows = iter_rows(path, lambda pos: bar.update(pos, f"{read_so_far:,} rows"), warn)
    damage: list[tuple[int, str]] = []  # (line, what) when the file ends in damage

    def prepare(parsed: str) -> tuple[datetime, bool] | None:
        nonlocal read_so_far
        batch = list(itertools.islice(rows, batch_rows))  # a reader never raises part-way (readers.py)
        if not batch:
            return None
        read_so_far += len(batch)
        if (what := damage_of(batch[-1])) is not None:
            damage.append((batch[-1][0], what))
        lines, docs, raws = zip(*batch)
        wh.command("TRUNCATE TABLE {t:Identifier}", {"t": st.stage})
        with wh.client() as c:
            c.insert(st.stage, [list(lines), list(docs), list(raws)],
                     column_names=["line", "doc", "raw"], column_oriented=True)
        return _parse_batch(wh, st, parsed, parse_sql, salt), bool(damage) or len(batch) < batch_rows

    _pipeline(wh, st, parse_sql, load_id, batch_no, file_key, report, prepare, lambda: None, batches)
    if damage:  # the rows before it are loaded and counted; the damage itself is one quarantined row
        line, what = damage[0]
        report.error = (f"{path}: line {line}: file damaged, {what}; "
                        f"the {report.read - 1} rows before it were read and are counted")


def _parse_batch(wh: Warehouse, st: _Staging, parsed: str, parse_sql: list[str], salt: str,
                 lo: int = 0, hi: int = 2**63 - 1) -> datetime:
    """Parse the staged rows lo <= line < hi into the table ``parsed``; returns the batch's load time."""
    now = datetime.now(timezone.utc)
    wh.command("TRUNCATE TABLE {t:Identifier}", {"t": parsed})
    wh.command(parse_sql[0], {"stage": st.stage, "parsed": parsed, "salt": salt, "load_time": now,
                              "lo": lo, "hi": hi})
    return now


def _write_batch(wh: Warehouse, parsed: str, now: datetime, parse_sql: list[str], load_id: str, file_key: str,
                 report: LoadReport, batches: list[tuple[str, datetime]]) -> None:
    """Insert a parsed batch's new valid rows into events and its rejects into quarantine."""
    # events first (straight from the parsed rows: no copy), then the counts;
    # the batch's rows are the new parts' rows with its load_id and load time
    wh.command(parse_sql[1], {"parsed": parsed, "load_id": load_id, "load_time": now})
    faults.point("load.events_written")
    read, bad, fresh = (int(x) for x in wh.rows(
        "SELECT (SELECT count() FROM {parsed:Identifier}), (SELECT countIf(reason != '') FROM {parsed:Identifier}), "
        "(SELECT count() FROM events WHERE loaded_at = {now:DateTime64(3, 'UTC')} AND load_id = {load_id:String})",
        {"parsed": parsed, "now": now, "load_id": load_id})[0])
    if bad:
        wh.command(
            "INSERT INTO quarantine (load_id, file, line, raw, reason, quarantined_at) "
            "SELECT {load_id:String}, {file:String}, line, raw, reason, {now:DateTime64(3, 'UTC')} "
            "FROM {parsed:Identifier} WHERE reason != ''",
            {"parsed": parsed, "load_id": load_id, "file": file_key, "now": now},
        )
    faults.point("load.batch_written")
    if fresh:
        batches.append((load_id, now))
    report.read += read
    report.quarantined += bad
    report.loaded += fresh
    report.duplicates += read - bad - fresh


def _pipeline(wh: Warehouse, st: _Staging, parse_sql: list[str], load_id: str, batch_no, file_key: str,
              report: LoadReport, prepare: Callable[[str], tuple[datetime, bool] | None],
              done: Callable[[], None], batches: list[tuple[str, datetime]]) -> None:
    """Write batches in order while the next one is prepared.

    ``prepare(table)`` stages and parses the next batch into ``table`` and
    returns its load time and whether it is the last batch (None: no batch
    left).  It runs on one worker thread, one batch ahead: parsing reads only
    the stage, and batches are written one after another, so each batch still
    deduplicates against every batch before it.  The two statements together
    keep both cores busier than either alone (a 5 M-event load used 1.3 cores
    of 2 when they ran in turn)."""
    tables = st.parsed_tables
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seamline-parse") as pool:
        ahead = pool.submit(prepare, tables[0])
        i = 0
        while (got := ahead.result()) is not None:
            now, last = got
            if not last:
                ahead = pool.submit(prepare, tables[(i + 1) % 2])
            _write_batch(wh, tables[i % 2], now, parse_sql, f"{load_id}-{next(batch_no):06d}", file_key, report,
                         batches)
            done()
            if last:
                break
            i += 1


def load_paths(wh: Warehouse, paths: list[str | Path], salt: str, batch_rows: int = 200_000,
               progress: bool | None = None, warn: Callable[[str], None] = lambda _: None) -> list[LoadReport]:
    """Load several files; a file-level error is recorded and the rest still load."""
    reports = []
    for p in paths:
        try:
            reports.append(load_file(wh, p, salt, batch_rows, progress, warn))
        except LoadError as exc:
            reports.append(LoadReport(file=str(p), error=str(exc)))
    return reports


def quarantine_rows(wh: Warehouse, limit: int = 10_000) -> list[dict]:
    return wh.dicts(
        "SELECT file, line, reason, raw, quarantined_at FROM quarantine FINAL "
        "ORDER BY file, line LIMIT {limit:UInt64}",
        {"limit": limit},
    )
