"""Our own small relational state (SQLAlchemy 2): job runs, locks, incident
reviews, annotations.  SQLite by default, PostgreSQL in production."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, UniqueConstraint,
    create_engine, delete, func, insert, select, update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from seamline.liveness import HEARTBEAT, Holder, alive

metadata = MetaData()

job_runs = Table(
    "job_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job", String(64), nullable=False, index=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),  # running / success / failed / skipped / interrupted
    Column("full", Boolean, nullable=False, default=False),
    Column("rows", Integer),
    Column("scope", Integer),
    Column("watermark", DateTime(timezone=True)),
    Column("error", Text),
)

# One row per held lease (a job's right to run): its holder's host, pid and
# process start (seamline.liveness), and a heartbeat for holders on other hosts.
leases = Table(
    "leases", metadata,
    Column("name", String(128), primary_key=True),
    Column("owner", String(256), nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
)

incident_reviews = Table(
    "incident_reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(128), nullable=False),
    Column("message_event_id", String(256), nullable=False),
    Column("status", String(32), nullable=False, default="open"),
    Column("owner", String(128), default=""),
    Column("root_cause", Text, default=""),
    Column("notes", Text, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("rule", "message_event_id", name="uq_review"),
)

annotations = Table(
    "annotations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("source", String(128), default=""),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

REVIEW_STATUSES = ("open", "investigating", "resolved", "wont_fix")


class _Heart:
    """One daemon thread per process that refreshes the heartbeat of every
    lease the process holds (for a taker on another host; on this host the
    process table tells)."""

    def __init__(self):
        self._held: dict[tuple[str, str], "Metadata"] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, md: "Metadata", name: str, owner: str) -> None:
        with self._lock:
            self._held[(name, owner)] = md
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="seamline-lease-heartbeat", daemon=True)
                self._thread.start()

    def drop(self, name: str, owner: str) -> None:
        with self._lock:
            self._held.pop((name, owner), None)

    def _run(self) -> None:
        while True:
            time.sleep(HEARTBEAT.total_seconds())
            with self._lock:
                held = list(self._held.items())
            by_md: dict[int, tuple["Metadata", list[tuple[str, str]]]] = {}
            for key, md in held:
                by_md.setdefault(id(md), (md, []))[1].append(key)
            for md, keys in by_md.values():
                try:
                    md.beat(keys)
                except Exception:  # a missed beat only matters to another host after several
                    pass


_heart = _Heart()

_engines: dict[str, Engine] = {}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def engine_for(url: str) -> Engine:
    eng = _engines.get(url)
    if eng is None:
        if url.startswith("sqlite:///"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        eng = create_engine(url, future=True, pool_pre_ping=True)
        metadata.create_all(eng)
        _engines[url] = eng
    return eng


def dispose_all() -> None:
    for eng in _engines.values():
        eng.dispose()
    _engines.clear()


class Metadata:
    def __init__(self, url: str):
        self.url = url
        self.engine = engine_for(url)

    # Job runs ------------------------------------------------------------
    def start_run(self, job: str, full: bool) -> int:
        with self.engine.begin() as cx:
            res = cx.execute(insert(job_runs).values(job=job, started_at=utcnow(), status="running", full=full))
            return int(res.inserted_primary_key[0])

    def finish_run(self, run_id: int, status: str, rows: int | None = None, scope: int | None = None,
                   watermark: datetime | None = None, error: str | None = None) -> None:
        with self.engine.begin() as cx:
            cx.execute(update(job_runs).where(job_runs.c.id == run_id).values(
                finished_at=utcnow(), status=status, rows=rows, scope=scope, watermark=watermark, error=error))

    def watermark(self, job: str) -> datetime | None:
        with self.engine.connect() as cx:
            row = cx.execute(
                select(job_runs.c.watermark).where(job_runs.c.job == job, job_runs.c.status == "success")
                .order_by(job_runs.c.id.desc()).limit(1)).first()
        return _aware(row[0]) if row else None

    def runs(self, job: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        q = select(job_runs).order_by(job_runs.c.id.desc()).limit(limit)
        if job:
            q = q.where(job_runs.c.job == job)
        with self.engine.connect() as cx:
            return [dict(r._mapping) for r in cx.execute(q)]

    def last_runs(self) -> dict[str, dict[str, Any]]:
        """The latest run of each job, and its last success."""
        out: dict[str, dict[str, Any]] = {}
        for r in reversed(self.runs(limit=2000)):
            entry = out.setdefault(r["job"], {})
            entry["last"] = r
            if r["status"] == "success":
                entry["last_success"] = r
        return out

    def data_as_of(self) -> datetime | None:
        with self.engine.connect() as cx:
            row = cx.execute(select(job_runs.c.finished_at).where(job_runs.c.status == "success")
                             .order_by(job_runs.c.id.desc()).limit(1)).first()
        return _aware(row[0]) if row else None

    def cache_stamp(self) -> tuple[Any, ...]:
        """What cached dashboard results depend on besides the view: the last
        successful job run (rollups only change then; its id and time, so a
        recreated database is a new stamp) and the annotations."""
        with self.engine.connect() as cx:
            last = cx.execute(select(job_runs.c.id, job_runs.c.finished_at).where(job_runs.c.status == "success")
                              .order_by(job_runs.c.id.desc()).limit(1)).first()
            notes = cx.execute(select(func.max(annotations.c.id), func.count()).select_from(annotations)).first()
        return (*(tuple(last) if last else (None, None)), int(notes[0] or 0), int(notes[1] or 0))

    def runs_in_progress(self) -> bool:
        """Whether a job run is marked ``running`` (an increment's rollups may
        be between its delete and its insert)."""
        with self.engine.connect() as cx:
            return cx.execute(select(job_runs.c.id).where(job_runs.c.status == "running").limit(1)).first() is not None

    def record_run(self, job: str, full: bool, status: str, error: str | None = None) -> int:
        """A run that ends as it starts (skipped): one row, never left ``running``."""
        now = utcnow()
        with self.engine.begin() as cx:
            res = cx.execute(insert(job_runs).values(job=job, started_at=now, finished_at=now, status=status,
                                                     full=full, error=error))
            return int(res.inserted_primary_key[0])

    def interrupt_runs(self, job: str) -> list[dict[str, Any]]:
        """Record the job's runs still marked ``running`` as ``interrupted``
        and return them.  Called by the holder of the job's lease: any other
        run of the job that is still ``running`` lost its process."""
        with self.engine.begin() as cx:
            rows = [dict(r._mapping) for r in cx.execute(
                select(job_runs).where(job_runs.c.job == job, job_runs.c.status == "running"))]
            if rows:
                cx.execute(update(job_runs).where(job_runs.c.id.in_([r["id"] for r in rows])).values(
                    status="interrupted", finished_at=utcnow(),
                    error="its process ended before the run finished (killed or crashed); the next run redoes it"))
        return rows

    def unfinished_full(self, job: str) -> bool:
        """Whether the job's last run that ended (skips aside) was a full run
        that did not succeed: the next run is a full one again."""
        with self.engine.connect() as cx:
            row = cx.execute(select(job_runs.c.full, job_runs.c.status)
                             .where(job_runs.c.job == job,
                                    job_runs.c.status.in_(("success", "failed", "interrupted")))
                             .order_by(job_runs.c.id.desc()).limit(1)).first()
        return bool(row and row[0] and row[1] != "success")

    # Leases --------------------------------------------------------------
    def acquire_lease(self, name: str) -> str | None:
        """Take the lease ``name``; None when a live holder has it.  A holder
        whose process is gone is taken over at once (no expiry to wait for)."""
        me = Holder.me()
        now = utcnow()
        with self.engine.begin() as cx:
            row = cx.execute(select(leases.c.owner, leases.c.heartbeat_at).where(leases.c.name == name)).first()
        if row is not None:
            if alive(Holder.parse(row[0]), _aware(row[1])):
                return None
            with self.engine.begin() as cx:  # only that dead holder's row: a racing taker's stays
                cx.execute(delete(leases).where(leases.c.name == name, leases.c.owner == row[0]))
        owner = f"{me.owner}/{uuid.uuid4().hex[:8]}"
        try:
            with self.engine.begin() as cx:
                cx.execute(insert(leases).values(name=name, owner=owner, acquired_at=now, heartbeat_at=now))
        except IntegrityError:
            return None
        _heart.hold(self, name, owner)
        return owner

    def release_lease(self, name: str, owner: str) -> None:
        _heart.drop(name, owner)
        with self.engine.begin() as cx:
            cx.execute(delete(leases).where(leases.c.name == name, leases.c.owner == owner))

    def beat(self, held: list[tuple[str, str]]) -> None:
        now = utcnow()
        with self.engine.begin() as cx:
            for name, owner in held:
                cx.execute(update(leases).where(leases.c.name == name, leases.c.owner == owner)
                           .values(heartbeat_at=now))

    # Incident reviews ----------------------------------------------------
    def save_review(self, rule: str, message_event_id: str, status: str, owner: str = "",
                    root_cause: str = "", notes: str = "") -> None:
        if status not in REVIEW_STATUSES:
            raise ValueError(f"status must be one of {', '.join(REVIEW_STATUSES)}")
        values = dict(status=status, owner=owner[:128], root_cause=root_cause[:5000], notes=notes[:20000],
                      updated_at=utcnow())
        with self.engine.begin() as cx:
            res = cx.execute(update(incident_reviews).where(
                incident_reviews.c.rule == rule, incident_reviews.c.message_event_id == message_event_id).values(**values))
            if res.rowcount == 0:
                cx.execute(insert(incident_reviews).values(rule=rule, message_event_id=message_event_id, **values))

    def reviews(self) -> dict[tuple[str, str], dict[str, Any]]:
        with self.engine.connect() as cx:
            return {(r.rule, r.message_event_id): dict(r._mapping) for r in cx.execute(select(incident_reviews))}

    # Annotations ---------------------------------------------------------
    def annotate(self, at: datetime, text: str, source: str = "") -> None:
        with self.engine.begin() as cx:
            cx.execute(insert(annotations).values(at=_aware(at), text=text, source=source, created_at=utcnow()))

    def annotations(self) -> list[dict[str, Any]]:
        with self.engine.connect() as cx:
            rows = [dict(r._mapping) for r in cx.execute(select(annotations).order_by(annotations.c.at))]
        for r in rows:
            r["at"] = _aware(r["at"])
        return rows
