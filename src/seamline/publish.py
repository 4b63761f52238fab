"""What readers see of a job run: the old rows or the new, never between.

An incremental run replaces its scope's rows in its rollups (delete the
scope's rows, add the new ones).  ClickHouse has no transaction that spans a
DELETE and an INSERT, so the runner makes the visible change as short as it
can and keeps readers out of it:

1. the run computes its new rows into staging copies of its tables (the same
   SQL, retargeted), while readers see the old rows;
2. the *switch*: under this module's lock, held exclusively, it deletes the
   scope's old rows (a lightweight delete: a patch part) and attaches the
   staged parts (``ATTACH PARTITION … FROM``: hard links, no copy).  Readers
   take the lock shared, so a read runs wholly before or wholly after it.

Why a lock and not versioned rows or partition swaps: a switch is a delete
(~10 ms a table) and an attach (~2 ms a partition), so a read waits for tens
of milliseconds at most (on a 340 k-event warehouse a job's switch took
2-150 ms), and nothing changes for readers - every page query stays as it
is.  What the staging costs is the copies' CREATE and DROP, about 0.2 s per
increment of all eight jobs.  Versioned rows (a run column, readers
filtering published runs) would add a filter and a join to every page query
and keep a replaced run's rows until a merge; replacing whole partitions
would rewrite most of a table for an increment whose customers are spread
over all of it.

Where it holds.  The lock is in-process.  The default deployment is one
process: ``seamline serve`` runs the scheduler in-process, and CLI commands
given while it runs are handed to it (seamline.remote), so every reader and
every switch meet here.  With a ClickHouse server and several processes
(``seamline scheduler`` apart from ``seamline serve --no-scheduler``), a
reader in another process is not held back: it can land inside a switch,
which lasts the deletes and the attaches (tens of milliseconds, where it
used to last the whole recompute), and then sees the scope's rows missing.
A run killed inside its switch leaves the scope's rows missing until the
job's next run, which redoes the run.

What takes the lock.  Reads (``Warehouse.rows`` / ``dicts`` / ``df``) take
it shared, except on a job's own thread (``job_thread``): a job's reads of
another job's rollup are repaired by the batch ledger (a job only takes
batches its dependencies recorded, so rows it read mid-switch belong to a
batch it processes again), and a long job statement holding the lock would
hold every page back behind the next switch.  Writes never take it.  The
lock prefers the writer: a switch waits only for the reads already running.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator


class _ReadWriteLock:
    """Many readers or one writer; a waiting writer holds new readers back.
    A thread that already reads may read again (page code nests reads on
    one thread) without waiting behind a writer it would block."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire_read(self) -> None:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._cond.notify_all()

    def acquire_write(self) -> None:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True

    def release_write(self) -> None:
        with self._cond:
            self._writer = False
            self._cond.notify_all()


_lock = _ReadWriteLock()
_local = threading.local()


@contextmanager
def reading() -> Iterator[None]:
    """Around one read: waits while a switch runs (see the module docstring)."""
    if getattr(_local, "exempt", 0) or getattr(_local, "reads", 0):
        _local.reads = getattr(_local, "reads", 0) + 1
        try:
            yield
        finally:
            _local.reads -= 1
        return
    _lock.acquire_read()
    _local.reads = 1
    try:
        yield
    finally:
        _local.reads = 0
        _lock.release_read()


@contextmanager
def switching() -> Iterator[None]:
    """The visible change of a run: no read runs while it does."""
    if getattr(_local, "reads", 0):  # a reader switching would wait for itself
        raise RuntimeError("a switch cannot start inside a read")
    _lock.acquire_write()
    _local.exempt = getattr(_local, "exempt", 0) + 1
    try:
        yield
    finally:
        _local.exempt -= 1
        _lock.release_write()


@contextmanager
def job_thread() -> Iterator[None]:
    """Mark the current thread as a job run's: its reads do not take the lock."""
    _local.exempt = getattr(_local, "exempt", 0) + 1
    try:
        yield
    finally:
        _local.exempt -= 1


# Staging copies ----------------------------------------------------------------
def make_stage(wh, table: str, stage: str) -> None:
    """An empty copy of ``table`` for a run's new rows.  On one node it has
    the table's engine, key and partitioning, so its parts can be attached
    (``add_staged``); on a cluster a plain local MergeTree (a copy of a
    replicated table would claim the table's replication path)."""
    from seamline.warehouse import quote_ident

    wh.command(f"DROP TABLE IF EXISTS {quote_ident(stage)}")
    engine = " ENGINE = MergeTree ORDER BY tuple()" if wh.cluster else ""
    wh.command(f"CREATE TABLE {quote_ident(stage)} AS {quote_ident(table)}{engine}")


def staged_partitions(wh, stage: str) -> list[str]:
    """The partitions that hold the stage's rows (read before a switch: a
    switch should only attach)."""
    return [r[0] for r in wh.rows(
        "SELECT DISTINCT partition_id FROM system.parts WHERE database = currentDatabase() "
        "AND table = {t:String} AND active ORDER BY partition_id", {"t": stage})]


def add_staged(wh, table: str, stage: str, partitions: list[str]) -> None:
    """Add the stage's rows to ``table``: its parts attached (hard links,
    milliseconds whatever their size); on a cluster, copied."""
    from seamline.warehouse import quote_ident

    if wh.cluster:
        wh.command(f"INSERT INTO {quote_ident(table)} SELECT * FROM {quote_ident(stage)}")
        return
    for partition in partitions:
        wh.command(f"ALTER TABLE {quote_ident(table)} ATTACH PARTITION ID {{p:String}} FROM {quote_ident(stage)}",
                   {"p": partition})
