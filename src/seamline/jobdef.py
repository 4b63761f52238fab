"""What a job is: SQL files in ``seamline.jobs`` plus a small declaration.

A job's scope says what an incremental run recomputes, from the batches it
has not processed (the job ledger: load batches, and identity change batches):
- ``customer``: every customer with events in its load batches, or whose
  identity key changed in its change batches; outputs are keyed by ``customer``;
- ``event_log``: the same customers, for a job whose output is the events
  themselves (the timeline): an increment rewrites the customers whose key
  changed and appends the other customers' new events;
- ``hour``: every hour (of occurred_at) with events in its load batches;
  outputs are keyed by ``hour``;
- ``global``: a Python function that does its own work; the batches it is
  given (a table) are recorded as processed when it returns, and it may add
  batches it made.

A job depends on the jobs that write what it reads: its ``inputs`` and, for
a customer job or the event log, ``identity_changes`` (its scope reads the identity job's
change batches).  It only takes batches that every job it depends on has
processed.
Its SQL writes its output tables by name; the runner points those names at
copies of the tables (a full run's new tables, an increment's staged rows),
so a read of an output inside the job's SQL reads the run's new rows.  The
tables as readers see them are ``{published_<table>:Identifier}``.

A customer job's SQL reads each of its ``inputs`` as ``{<input>:Identifier}``
and its outputs by name, and the runner cuts both to the run's customers
(``seamline.scopes.CustomerCut``): the scope's customers in an increment, a
full run's range of keys (``split_by``), or everything.  An hour job's SQL
reads ``{events:Identifier}`` cut to the run's hours, the same way
(``seamline.scopes.HourCut``), and the event log's reads the events it
rewrites, those it appends and their keys (``seamline.scopes.EventLogCut``).
No job's SQL says anything about full or incremental runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings
    from seamline.warehouse import Warehouse

Statement = tuple[str, dict[str, Any]]  # (SQL file stem in seamline.jobs, parameters)


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    schedule: str                      # cron, UTC (overridable: settings.schedules[name])
    scope: str                         # customer | event_log | hour | global (the module docstring)
    outputs: tuple[str, ...]           # tables the job owns (rows keyed by its scope)
    inputs: tuple[str, ...] = ("events", "identity_map")  # tables its SQL reads (besides its outputs)
    statements: Callable[["Settings"], list[Statement]] | None = None
    # A full run in passes, so a join or aggregation holds one pass's keys at
    # a time; each statement file that reads an input (cut to the pass by the
    # runner) runs once per pass:
    # - a customer job or the event log: (table, first column of its primary
    #   key), cut into ranges of about equal size;
    # - an hour job: (table, time column), a pass per share of its months.
    split_by: tuple[str, str] | None = None
    run: Callable[..., int] | None = None  # global jobs: (wh, settings, full, batches table, since) -> rows
    # Tables the job also writes, not keyed by the scope's column: each is
    # appended to (its engine keeps the newest row), unless ``keyed_by`` names it.
    extra_outputs: tuple[str, ...] = field(default=())
    # (table, column) of an extra output keyed by another column: an
    # incremental run replaces its rows whose column holds one of the scope's
    # keys cast to the column's type (an hour's ``day``).
    keyed_by: tuple[tuple[str, str], ...] = field(default=())
    # An increment recomputes each customer from a point in time, not its
    # whole history (seamline.scopes.Window): ``window`` is the SQL file
    # that says from when, and ``window_columns`` names each output's time
    # (or day) column, whose rows from that point on the increment replaces.
    # Only for a customer job whose input is the timeline.
    window: str | None = None
    window_columns: tuple[tuple[str, str], ...] = field(default=())

    @property
    def keys(self) -> str | None:
        """What its outputs are keyed by: ``customer`` (a customer job, the
        event log), ``hour``, or None (a global job)."""
        return {"customer": "customer", "event_log": "customer", "hour": "hour"}.get(self.scope)

    def reads(self) -> tuple[str, ...]:
        """The tables a run of the job reads that other jobs may write."""
        return self.inputs + (("identity_changes",) if self.keys == "customer" else ())

    @property
    def depends_on(self) -> tuple[str, ...]:
        """The jobs (in registry order) whose outputs it reads."""
        from seamline.jobs import JOBS

        return dependencies(self, JOBS)

    def sql_statements(self, settings: "Settings") -> list[Statement]:
        return self.statements(settings) if self.statements else []

    def cron(self, settings: "Settings") -> str:
        return settings.schedules.get(self.name, self.schedule)


def dependencies(job: Job, jobs: dict[str, Job]) -> tuple[str, ...]:
    """The jobs of ``jobs`` (in their order) writing a table ``job`` reads."""
    reads = set(job.reads())
    return tuple(name for name, other in jobs.items()
                 if other is not job and reads & set(other.outputs + other.extra_outputs))
