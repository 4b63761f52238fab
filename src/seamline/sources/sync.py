"""``seamline sources sync``: a source's new rows into ``events``, inside
ClickHouse, through the load's own pipeline (``seamline.load.load_staged``).

For each table of the source, one ``INSERT … SELECT`` renders the rows that
arrived since the table's watermark (its insert-time column, from the
watermark minus the source's look-back, up to the newest insert time seen
when the sync starts) as canonical JSON texts into the load's stage; the
load parses, validates, deduplicates by event_id, quarantines (file
``source:<name>``, line a stable key of the row) and commits them as one load,
with the source's identity edges (PostHog persons, RudderStack aliases).
After the commit, the sync's row in ``source_syncs`` moves the watermarks on.
A sync killed anywhere is undone (before its commit) or read again as
duplicates (after it): no number changes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from seamline import faults
from seamline.sources.mapping import MappingError, Plan, plans, tables_of
from seamline.sources.models import Source
from seamline.sqlfile import statement
from seamline.warehouse import Warehouse

log = logging.getLogger("seamline.sources")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass
class SyncReport:
    source: str
    kind: str
    full: bool = False
    status: str = "ok"  # ok / failed / skipped (another sync of the source holds its lease)
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    edges: int = 0
    tables: dict[str, int] = field(default_factory=dict)  # rows read per table
    seconds: float = 0.0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _aware(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def last_sync(wh: Warehouse, name: str, ok_only: bool = True) -> dict[str, Any] | None:
    rows = wh.dicts(
        "SELECT * FROM source_syncs WHERE source = {s:String} AND (status = 'ok' OR {any:UInt8} = 1) "
        "ORDER BY finished_at DESC LIMIT 1", {"s": name, "any": 0 if ok_only else 1})
    return rows[0] if rows else None


def _window(plan: Plan, since: datetime | None) -> str:
    if not plan.insert_time:
        return "1"
    bound = f"{plan.insert_time} <= {{until:DateTime64(3, 'UTC')}}"
    return bound if since is None else f"{plan.insert_time} >= {{since:DateTime64(3, 'UTC')}} AND {bound}"


def newest(wh: Warehouse, plan: Plan, since: datetime | None = None) -> datetime | None:
    """The newest insert time in the table, of the rows since ``since`` when given (None: no such
    row, or no insert-time column).  The bound lets an index on the insert time skip the history."""
    if not plan.insert_time:
        return None
    return _aware(wh.scalar(
        f"SELECT maxOrNull({plan.insert_time}) FROM {plan.from_sql} WHERE ({plan.where}) "
        f"AND {plan.insert_time} >= {{since:DateTime64(3, 'UTC')}}", plan.params | {"since": since or EPOCH}))


def _identity(wh: Warehouse, source: Source) -> tuple[str, dict[str, Any]] | None:
    """The source's identity statement and its parameters, when it has the tables."""
    found = set(tables_of(wh, source.database))
    if source.kind == "posthog" and "person_distinct_id2" in found:
        overrides = "person_distinct_id_overrides" if "person_distinct_id_overrides" in found else "person_distinct_id2"
        return "posthog_person", {"db": source.database, "overrides": overrides}
    if source.kind == "rudderstack" and "aliases" in found:
        return "rudderstack_alias", {"db": source.database}
    return None


def sync_source(wh: Warehouse, source: Source, salt: str, key: str, full: bool = False,
                batch_rows: int = 200_000, md: Any = None) -> SyncReport:
    """Sync one source; a failure is recorded (source_syncs) and raised.

    With the metadata DB ``md``, the sync holds the lease ``source:<name>``:
    a sync that finds a live one holding it is ``skipped`` (two syncs of a
    source at once would race on the same rows' deduplication)."""
    if md is None:
        return _sync(wh, source, salt, key, full, batch_rows)
    lease = f"source:{source.name}"
    owner = md.acquire_lease(lease)
    if owner is None:
        return SyncReport(source=source.name, kind=source.kind, full=full, status="skipped")
    try:
        return _sync(wh, source, salt, key, full, batch_rows)
    finally:
        md.release_lease(lease, owner)


def _sync(wh: Warehouse, source: Source, salt: str, key: str, full: bool, batch_rows: int) -> SyncReport:
    import time

    from seamline.load import load_staged

    started_mono, started = time.monotonic(), datetime.now(timezone.utc)
    report = SyncReport(source=source.name, kind=source.kind, full=full)
    before = last_sync(wh, source.name)
    marks: dict[str, datetime] = {k: _aware(v) for k, v in (before["watermarks"] if before else {}).items()}
    load_id = ""
    try:
        table_plans = plans(wh, source, key)
        windows: list[tuple[Plan, str, dict[str, Any]]] = []
        new_marks = dict(marks)
        for plan in table_plans:
            mark = None if full else marks.get(plan.table)
            since = None if mark is None else mark - source.lookback_delta
            until = newest(wh, plan, since)
            if plan.insert_time and until is None:
                continue  # nothing since the look-back (or an empty table): its watermark stays
            windows.append((plan, _window(plan, since), {"since": since or EPOCH, "until": until or EPOCH}))
            if until is not None:
                new_marks[plan.table] = until
        ident = _identity(wh, source)
        if ident is not None:
            name, params = ident
            latest = _aware(wh.scalar(statement("seamline.sources", "identity", f"{name}_latest"), params))
            mark = None if full else marks.get("identity")
            ident_since = EPOCH if mark is None else mark - source.lookback_delta
            if latest is not None:
                new_marks["identity"] = latest

        def stage(table: str) -> int:
            count = "SELECT count() FROM {t:Identifier}"
            done = 0
            for plan, window, bounds in windows:
                wh.command(plan.stage_sql(table, window), plan.params | bounds)
                faults.point("sources.table_staged")
                now_staged = int(wh.scalar(count, {"t": table}))
                report.tables[plan.table] = now_staged - done
                done = now_staged
            return done

        def edges(lid: str) -> list[str]:
            nonlocal load_id
            load_id = lid
            if ident is None:
                return []
            batch = f"{lid}-identity"
            wh.command(statement("seamline.sources", "identity", f"{ident[0]}_edges"),
                       ident[1] | {"load_id": batch, "since": ident_since})
            faults.point("sources.edges")
            report.edges = int(wh.scalar("SELECT count() FROM identity_edges WHERE load_id = {b:String}",
                                         {"b": batch}))
            return [batch] if report.edges else []

        loaded = load_staged(wh, source.file_key, salt, stage, batch_rows, before_commit=edges)
        for k in ("read", "loaded", "duplicates", "quarantined"):
            setattr(report, k, getattr(loaded, k))
        report.seconds = round(time.monotonic() - started_mono, 3)
        faults.point("sources.committed")
        _record(wh, source, load_id, started, full, "ok", new_marks, report)
    except Exception as exc:
        report.status = "failed"
        report.error = str(exc) if isinstance(exc, MappingError) else f"{type(exc).__name__}: {exc}"
        report.seconds = round(time.monotonic() - started_mono, 3)
        try:
            _record(wh, source, load_id, started, full, "failed", marks, report)
        except Exception as rec_exc:  # the warehouse itself is down: the log says it
            log.warning("could not record the failed sync of %s: %s", source.name, rec_exc)
        raise
    return report


def _record(wh: Warehouse, source: Source, load_id: str, started: datetime, full: bool, status: str,
            marks: dict[str, datetime], report: SyncReport) -> None:
    latest = max(marks.values(), default=None)
    wh.insert("source_syncs", [[source.name, load_id, started, datetime.now(timezone.utc), int(full), status,
                                marks, latest, report.read, report.loaded, report.duplicates, report.quarantined,
                                report.edges, report.error or ""]],
              ["source", "load_id", "started_at", "finished_at", "full", "status", "watermarks", "latest", "read",
               "loaded", "duplicates", "quarantined", "edges", "error"])


def lag(wh: Warehouse, source: Source, key: str) -> tuple[float | None, datetime | None]:
    """How far the synced watermark is behind the source's newest insert time
    (seconds; 0 when caught up), and that newest time."""
    before = last_sync(wh, source.name)
    marks = {k: _aware(v) for k, v in (before["watermarks"] if before else {}).items()}
    behind, latest = timedelta(0), None
    for p in plans(wh, source, key):
        mark = marks.get(p.table)
        t = newest(wh, p, mark) or mark  # only the rows since the watermark are read (an index skips the rest)
        if t is None:
            continue
        latest = t if latest is None else max(latest, t)
        if mark is None:
            return None, latest
        behind = max(behind, t - mark)
    return (behind.total_seconds() if latest is not None else None), latest
