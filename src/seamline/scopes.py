"""What a job run covers: its batches (the job ledger: load batches and
identity change batches it has not processed that its dependencies have), the
keys it recomputes (customers or hours), an event log's re-keyed customers,
and the scopes and timeline slices the jobs of one ``run_jobs`` call share."""

from __future__ import annotations

import re
import threading
import uuid
import zlib
from datetime import datetime, timedelta
from typing import Callable

from seamline.jobdef import Job
from seamline.liveness import Holder, alive
from seamline.metrics import as_utc
from seamline.sqlfile import statement
from seamline.warehouse import Warehouse, quote_ident, sql_text


SHARED_PREFIX = "_scope_shared_"


def _host_tag(host: str) -> str:
    return f"{zlib.crc32(host.encode()):08x}"


def drop_orphans(wh: Warehouse) -> list[str]:
    """Drop the shared scope tables of job calls whose process on this host
    is gone (a killed run); returns their names.  A job's own work tables
    are dropped and made again by its next run."""
    me = Holder.me()
    pattern = SHARED_PREFIX.replace("_", "\\_") + "%"
    dropped = []
    for (name,) in wh.rows("SELECT name FROM system.tables WHERE database = currentDatabase() "
                           "AND name LIKE {p:String}", {"p": pattern}):
        parts = name[len(SHARED_PREFIX):].split("_")
        if len(parts) < 4 or parts[0] != _host_tag(me.host) or not parts[1].isdigit() or not parts[2].isdigit():
            continue
        if not alive(Holder(me.host, int(parts[1]), int(parts[2])), None):
            wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": name})
            dropped.append(name)
    return dropped


# A job run's own work tables and views (the cuts' views and range, the
# scope, batches, re-keyed customers, appended events, window): named by the
# job, dropped by the run and made again by the next one.
WORK_PREFIXES = ("cut", "range", "scope", "scope_batches", "rekeyed", "idents", "news", "window", "wslice")


def drop_leftovers(wh: Warehouse, job: Job) -> list[str]:
    """Drop the work tables and views a killed run of ``job`` left (called by
    a run holding the job's lease, so no other run of it is using them): a
    cut's views are numbered, and a run with fewer views than the killed one
    would not replace them all.  Returns their names."""
    pattern = "^_(" + "|".join(WORK_PREFIXES) + ")_" + re.escape(job.name) + r"(_[0-9]+)?$"
    dropped = []
    for name, engine in wh.rows("SELECT name, engine FROM system.tables WHERE database = currentDatabase() "
                                "AND match(name, {p:String})", {"p": pattern}):
        kind = "VIEW" if engine == "View" else "TABLE"
        wh.command(f"DROP {kind} IF EXISTS {{t:Identifier}}", {"t": name})
        dropped.append(name)
    return dropped


class ScopeCache:
    """Scopes computed once per ``run_jobs`` call.  A scope depends on the
    job's kind (customer / hour) and its batches (load batches and, for a
    customer job, identity change batches).  Jobs run together usually share
    both, and the second job copies the first one's keys instead of
    recomputing them.

    The cache also keeps each customer scope's *slice* of the timeline: its
    customers' rows, copied once.  They are scattered over the timeline's
    granules, so every job reading them there would read most of the table;
    the jobs of the call read the small slice instead.  A job only takes
    batches its dependencies (the timeline job among them) have processed, so
    a slice made for a scope already holds that scope's events."""

    def __init__(self, wh: Warehouse):
        self.wh = wh
        # jobs running at once share the cache: a scope or slice is made by
        # the first job that needs it while the others wait
        self.lock = threading.Lock()
        self.tables: dict[tuple, str] = {}
        self.slices: dict[tuple, str] = {}
        self.newses: dict[tuple, str] = {}
        # unique per call (the scheduler may run two job chains at once), and
        # naming its process, so a killed call's tables are found (drop_orphans)
        me = Holder.me()
        self.prefix = f"{SHARED_PREFIX}{_host_tag(me.host)}_{me.pid}_{me.start}_{uuid.uuid4().hex[:8]}"

    def key(self, kind: str, batches_t: str) -> tuple:
        return kind, tuple(sorted(r[0] for r in self.wh.rows("SELECT batch FROM {b:Identifier}", {"b": batches_t})))

    def restore(self, key: tuple, scope_t: str) -> bool:
        table = self.tables.get(key)
        if table is None:
            return False
        self.wh.command("INSERT INTO {t:Identifier} SELECT key FROM {c:Identifier}", {"t": scope_t, "c": table})
        return True

    def keep(self, key: tuple, scope_t: str) -> None:
        table = f"{self.prefix}_{len(self.tables)}"
        self.wh.command("DROP TABLE IF EXISTS {c:Identifier}", {"c": table})
        self.wh.command(f"CREATE TABLE {quote_ident(table)} ENGINE = Memory AS SELECT key FROM {quote_ident(scope_t)}")
        self.tables[key] = table

    def slice(self, key: tuple, scope_t: str) -> str:
        """The timeline rows of the scope's customers (made on first use)."""
        with self.lock:
            table = self.slices.get(key)
            if table is None:
                table = f"{self.prefix}_slice_{len(self.slices)}"
                self.wh.command("DROP TABLE IF EXISTS {c:Identifier}", {"c": table})
                # the timeline's columns, its ALIAS occurred_at among them
                self.wh.command(f"CREATE TABLE {quote_ident(table)} AS timeline ENGINE = MergeTree "
                                "ORDER BY (customer, ms, event_id)")
                self.wh.command(f"INSERT INTO {quote_ident(table)} SELECT * FROM timeline "
                                "PREWHERE customer IN (SELECT key FROM {s:Identifier})", {"s": scope_t})
                self.slices[key] = table
            return table

    def news(self, key: tuple, scope_t: str, batches_t: str, since: datetime) -> str:
        """Each scope customer's earliest new event (``sql/window_news.sql``;
        made on first use, for every job with a window)."""
        with self.lock:
            table = self.newses.get(key)
            if table is None:
                table = f"{self.prefix}_news_{len(self.newses)}"
                self.wh.command("DROP TABLE IF EXISTS {c:Identifier}", {"c": table})
                self.wh.command(f"CREATE TABLE {quote_ident(table)} (customer String, first_ms Int64) ENGINE = Memory")
                self.wh.command(sql_text("seamline.sql", "window_news"),
                                {"news": table, "scope": scope_t, "batches": batches_t, "since": since})
                self.newses[key] = table
            return table

    def close(self) -> None:
        for table in list(self.tables.values()) + list(self.slices.values()) + list(self.newses.values()):
            try:
                self.wh.command("DROP TABLE IF EXISTS {c:Identifier}", {"c": table})
            except Exception:
                pass
        self.tables.clear()
        self.slices.clear()
        self.newses.clear()


def processed_any(wh: Warehouse, job: Job) -> bool:
    """Whether the job has processed a batch: its first run is a full one."""
    return bool(wh.scalar("SELECT count() > 0 FROM job_ledger WHERE job = {job:String}", {"job": job.name}))


def prepare_batches(wh: Warehouse, job: Job, batches_t: str, full_mode: bool,
                     started: datetime) -> tuple[int, datetime]:
    """The batches of the run, in ``batches_t``: the committed load batches
    (event_batches) and, for a customer job, the identity job's change
    batches (identity_changes.batch) that every job it depends on has
    processed (identity first: so every identifier has its key) and, in an
    increment, that the job has not (job_ledger).  Returns their count and
    the time after which the run's events were loaded (for the jobs' reads of
    ``events`` by load time: a long load writes its first batch well before
    it commits)."""
    wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": batches_t})
    wh.command(f"CREATE TABLE {quote_ident(batches_t)} (batch String) ENGINE = Memory")
    p = {"b": batches_t, "job": job.name, "all": int(full_mode), "changes": int(job.scope != "hour"),
         "deps": list(job.depends_on), "n": len(job.depends_on)}
    wh.command(sql_text("seamline.sql", "run_batches"), p)
    count, loaded_from = wh.rows(
        "SELECT (SELECT count() FROM {b:Identifier}), "
        "(SELECT minOrNull(loaded_at) FROM event_batches WHERE batch IN (SELECT batch FROM {b:Identifier}))", p)[0]
    return int(count), (as_utc(loaded_from) - timedelta(milliseconds=1) if loaded_from else started)


def prepare_scope(wh: Warehouse, job: Job, scope_t: str, batches_t: str, full_mode: bool,
                   since: datetime, scopes: ScopeCache) -> tuple[int | None, tuple]:
    """Fill the run's scope: the keys (customers or hours) to recompute, in
    ``scope_t``.  Returns their count (``None`` for a full run) and the
    scope's cache key."""
    key_type = "DateTime('UTC')" if job.scope == "hour" else "String"
    wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": scope_t})
    wh.command(f"CREATE TABLE {quote_ident(scope_t)} (key {key_type}) ENGINE = Memory")
    if full_mode:
        return None, ()
    p = {"scope": scope_t, "batches": batches_t, "since": since, "job": job.name}
    cache_key = scopes.key(job.keys, batches_t)
    with scopes.lock:
        if not scopes.restore(cache_key, scope_t):
            if job.scope == "hour":
                wh.command(
                    "INSERT INTO {scope:Identifier} SELECT DISTINCT toDateTime(toStartOfHour(occurred_at), 'UTC') "
                    "FROM events WHERE loaded_at > {since:DateTime64(3, 'UTC')} "
                    "AND load_id IN (SELECT batch FROM {batches:Identifier})", p)
            else:
                wh.command(sql_text("seamline.sql", "scope_customers"), p)
            scopes.keep(cache_key, scope_t)
    return int(wh.scalar("SELECT count() FROM {scope:Identifier}", p) or 0), cache_key


def prepare_rekeyed(wh: Warehouse, rekeyed_t: str, idents_t: str, batches_t: str, full_mode: bool) -> str:
    """For an event log: the customers whose key changed in the run's change
    batches (in ``rekeyed_t``) and their identifiers (in ``idents_t``).
    Their rows are rewritten; the other customers only gain their new events."""
    for t, column in ((rekeyed_t, "key"), (idents_t, "ident")):
        wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": t})
        wh.command(f"CREATE TABLE {quote_ident(t)} ({quote_ident(column)} String) ENGINE = Memory")
    if not full_mode:
        p = {"t": rekeyed_t, "i": idents_t, "batches": batches_t}
        wh.command("INSERT INTO {t:Identifier} SELECT DISTINCT customer FROM identity_changes "
                   "WHERE batch IN (SELECT batch FROM {batches:Identifier})", p)
        wh.command("INSERT INTO {i:Identifier} SELECT ident FROM identity_map "
                   "WHERE customer IN (SELECT key FROM {t:Identifier})", p)
    return rekeyed_t


class Cut:
    """What a job's SQL reads, already cut to the run (a subclass per kind of
    job): ``inputs`` are the relations its ``{<input>:Identifier}`` name,
    ``reads`` what its reads of its outputs by name read in a pass over one
    range (``whole``: in a file run once, after the ranges), ``published``
    more relations its SQL names; the views it makes and the range table of
    a full run in passes are its own, and ``close`` drops them."""

    def __init__(self, wh: Warehouse, job: Job, copies: dict[str, str]):
        self.wh, self.views, self.job = wh, [], job.name
        self.range_t = f"_range_{job.name}"
        self.whole = {t: copies.get(t, t) for t in job.outputs + job.extra_outputs}
        self.reads = dict(self.whole)
        self.inputs: dict[str, str] = {}
        self.published: dict[str, str] = {}

    def _range(self) -> str:
        """The (quoted) one-row table of a full run's current range [lo, hi)."""
        self.wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": self.range_t})
        self.wh.command(f"CREATE TABLE {quote_ident(self.range_t)} (lo String, hi String) ENGINE = Memory")
        return quote_ident(self.range_t)

    def _key_range(self, column: str) -> str:
        """The condition of a key ``column`` in the current range ('' hi: unbounded)."""
        r, c = self._range(), quote_ident(column)
        return f"{c} >= (SELECT lo FROM {r}) AND ((SELECT hi FROM {r}) = '' OR {c} < (SELECT hi FROM {r}))"

    def _view(self, table: str, cond: str) -> str:
        view = f"_cut_{self.job}_{len(self.views)}"
        # SELECT * leaves out ALIAS columns (the timeline's occurred_at)
        aliases = [r[0] for r in self.wh.rows(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
            "AND default_kind = 'ALIAS' ORDER BY position", {"t": table})]
        columns = ", ".join(["*"] + [quote_ident(a) for a in aliases])
        self.wh.command("DROP VIEW IF EXISTS {v:Identifier}", {"v": view})
        self.wh.command(f"CREATE VIEW {quote_ident(view)} AS SELECT {columns} FROM {quote_ident(table)} WHERE {cond}")
        self.views.append(view)
        return view

    def reads_cut(self, text: str) -> bool:
        """Whether a statement file reads an input (so runs once per range)."""
        return any("{" + t + ":Identifier}" in text for t in self.inputs)

    def reads_for(self, per_range: bool) -> dict[str, str]:
        """What a statement file's reads of the outputs read: cut to the
        range for a file run once per range, else the whole copies (a file
        run once, after the ranges, sees every range's rows)."""
        return self.reads if per_range else self.whole

    def set_range(self, lo: str, hi: str) -> None:
        self.wh.command("TRUNCATE TABLE {t:Identifier}", {"t": self.range_t})
        self.wh.command("INSERT INTO {t:Identifier} VALUES ({lo:String}, {hi:String})",
                        {"t": self.range_t, "lo": lo, "hi": hi})

    def close(self) -> None:
        for view in self.views:
            self.wh.command("DROP VIEW IF EXISTS {v:Identifier}", {"v": view})
        self.wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": self.range_t})


class CustomerCut(Cut):
    """What a customer job's SQL reads, already cut to the run's customers.

    Each input ``t`` is the relation ``{t:Identifier}``, and each of the job's
    outputs read back in its SQL (``FROM t`` / ``JOIN t``) is read from the
    run's copy of it, cut the same way:
    - an increment: the scope's customers.  The timeline is the scope's slice
      (``ScopeCache.slice``); another input is a view of it over the scope;
      the outputs' stages hold only the scope's rows already;
    - a full run in key ranges: views of the tables (and of the outputs' new
      copies) over the current range [lo, hi), kept in a one-row table that
      ``set_range`` replaces before each pass: no rows are copied;
    - a full run in one pass: the tables themselves.
    A view is read with WHERE (ClickHouse refuses PREWHERE on a view; it
    moves the conditions to the table's PREWHERE and its primary key)."""

    def __init__(self, wh: Warehouse, job: Job, full_mode: bool, split: bool, scope_t: str,
                 timeline_slice: Callable[[], str], copies: dict[str, str]):
        super().__init__(wh, job, copies)
        if full_mode and split:
            cond = self._key_range("customer")
            self.inputs = {t: self._view(t, cond) for t in job.inputs}
            # extra outputs are not keyed by customer
            self.reads |= {t: self._view(copies.get(t, t), cond) for t in job.outputs}
        elif full_mode:
            self.inputs = {t: t for t in job.inputs}
        else:
            cond = f"customer IN (SELECT key FROM {quote_ident(scope_t)})"
            self.inputs = {t: timeline_slice() if t == "timeline" else self._view(t, cond) for t in job.inputs}

class HourCut(Cut):
    """What an hour job's SQL reads, already cut to the run's hours: its
    input ``events`` is ``{events:Identifier}``, and its outputs (keyed by
    ``hour``) read back in its SQL are read from the run's copies, cut the
    same way:
    - an increment: a view of the events whose hour is in the scope; the
      outputs' stages hold only the scope's hours already;
    - a full run: ``MONTH_PARTS`` passes, each over its share of the
      months of events (their partitions, so a pass reads only its parts),
      so that the groups' sorted lags of only those months are in memory at
      once; the range [lo, hi) of months is in a one-row table that
      ``set_range`` replaces before each pass.
    ``{published_<output>:Identifier}`` is what readers see of the run's
    days outside its hours (the rest of a day a daily rollup merges; none in
    a full run, whose hours are every hour).  ``ranges`` are the passes of
    the run (one for an increment, none for a full run without events)."""

    MONTH_PARTS = 6

    def __init__(self, wh: Warehouse, job: Job, full_mode: bool, scope_t: str, copies: dict[str, str]):
        super().__init__(wh, job, copies)
        table, column = job.split_by or ("events", "occurred_at")
        if full_mode:
            months = [str(m) for (m,) in wh.rows(
                "SELECT DISTINCT toUInt32(partition_id) AS m FROM system.parts WHERE database = currentDatabase() "
                "AND table = {t:String} AND active ORDER BY m", {"t": table})]
            n = min(self.MONTH_PARTS, len(months))
            firsts = [months[len(months) * i // n] for i in range(n)]
            self.ranges = list(zip(firsts, firsts[1:] + [""]))
            r = self._range()

            def cond(col: str) -> str:
                month = f"toYYYYMM({quote_ident(col)})"
                return (f"{month} >= toUInt32((SELECT lo FROM {r})) "
                        f"AND ((SELECT hi FROM {r}) = '' OR {month} < toUInt32OrZero((SELECT hi FROM {r})))")
            self.inputs = {t: self._view(t, cond(column)) for t in job.inputs}
            self.reads |= {t: self._view(copies.get(t, t), cond("hour")) for t in job.outputs}
            rest = "0"
        else:
            self.ranges = [("", "")]
            scope = quote_ident(scope_t)
            hour = f"toDateTime(toStartOfHour({quote_ident(column)}), 'UTC') IN (SELECT key FROM {scope})"
            self.inputs = {t: self._view(t, hour) for t in job.inputs}
            rest = f"toDate(hour) IN (SELECT DISTINCT toDate(key) FROM {scope}) AND hour NOT IN (SELECT key FROM {scope})"
        self.published = {f"published_{t}": self._view(t, rest) for t in job.outputs}


class EventLogCut(Cut):
    """What the event log's SQL (the timeline's) reads, already cut to the run:
    - ``{events:Identifier}``, the events whose customers it writes whole: a
      full run's range of identifiers (``split_by``) or every event, an
      increment's re-keyed customers' identifiers (``idents_t``; the runner
      replaces those customers' rows);
    - ``{new_events:Identifier}``, the events it appends: an increment's new
      events of the other customers (``sql/event_log_news.sql``), none in a
      full run;
    - ``{identity_map:Identifier}``, the keys of those events' identifiers.
    Reads by identifier are views (their conditions reach the tables' primary
    keys); the appended events are copied, as they are found through the
    load_id index and the published log."""

    def __init__(self, wh: Warehouse, job: Job, full_mode: bool, split: bool, scope_t: str, idents_t: str,
                 batches_t: str, since: datetime, copies: dict[str, str]):
        super().__init__(wh, job, copies)
        self.news_t = f"_news_{job.name}"
        wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": self.news_t})
        wh.command(statement("seamline.sql", "event_log_news", "create"), {"news": self.news_t})
        if full_mode and split:
            cond = self._key_range("ident")
            self.inputs = {t: self._view(t, cond) for t in ("events", "identity_map")}
        elif full_mode:
            self.inputs = {"events": "events", "identity_map": "identity_map"}
        else:
            wh.command(statement("seamline.sql", "event_log_news", "fill"),
                       {"news": self.news_t, "batches": batches_t, "since": since, "idents": idents_t,
                        "published": job.outputs[0], "scope": scope_t})
            idents, news = quote_ident(idents_t), quote_ident(self.news_t)
            self.inputs = {"events": self._view("events", f"ident IN (SELECT ident FROM {idents})"),
                           "identity_map": self._view("identity_map", f"ident IN (SELECT ident FROM {idents}) "
                                                                      f"OR ident IN (SELECT ident FROM {news})")}
        self.inputs["new_events"] = self.news_t

    def close(self) -> None:
        try:
            self.wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": self.news_t})
        finally:
            super().close()


class Window:
    """Where an increment of a job with a ``window`` starts, per customer:
    a new event changes only what lies within the job's windows of it, so
    the job recomputes each customer's rows from a point in time, not the
    whole history.

    ``news`` holds each scope customer's earliest new event
    (``ScopeCache.news``: 0 for a customer whose key changed, recomputed
    whole); the job's window file turns it into ``_window_<job>`` (customer,
    from_ms, read_ms), from the scope's ``timeline`` slice (never from the
    job's outputs: a run killed half-way through its switch leaves them
    part-deleted, and its retry computes its window again): the job reads the customer's timeline rows at or
    after read_ms (``timeline``), and its rows at or after from_ms replace
    the stored ones (``replaced``)."""

    def __init__(self, wh: Warehouse, job: Job, params: dict, news: str, timeline: str):
        self.wh, self.job = wh, job
        self.table, self.slice_t = f"_window_{job.name}", f"_wslice_{job.name}"
        self.drop()
        wh.command(f"CREATE TABLE {quote_ident(self.table)} (customer String, from_ms Int64, read_ms Int64) "
                   "ENGINE = Memory")
        wh.run_script(sql_text("seamline.jobs", job.window),
                      params | {"news": news, "window": self.table, "timeline": timeline})

    def timeline(self, slice_t: str) -> str:
        """The job's timeline rows: the scope's slice from each customer's read_ms on."""
        self.wh.command(f"CREATE TABLE {quote_ident(self.slice_t)} AS timeline ENGINE = MergeTree "
                        "ORDER BY (customer, ms, event_id)")
        self.wh.command(f"INSERT INTO {quote_ident(self.slice_t)} SELECT s.* FROM {quote_ident(slice_t)} AS s "
                        f"INNER JOIN {quote_ident(self.table)} AS w ON w.customer = s.customer WHERE s.ms >= w.read_ms")
        return self.slice_t

    def replaced(self, column: str) -> str:
        """The condition on an output's rows that the increment replaces:
        its customers' rows whose ``column`` (a time or a day) is at or
        after their from_ms."""
        w = quote_ident(self.table)
        return (f"customer IN (SELECT customer FROM {w}) AND toUnixTimestamp64Milli(toDateTime64({quote_ident(column)}, 3, 'UTC')) "
                f">= transform(customer, (SELECT groupArray(customer) FROM {w}), (SELECT groupArray(from_ms) FROM {w}), "
                "toInt64(0))")

    def trim(self, stages: dict[str, str]) -> None:
        """Keep in the outputs' stages only the rows the increment replaces:
        a window that reads further back than it replaces (``read_ms`` before
        ``from_ms``) computes rows of the look-back too, from part of their
        inputs."""
        if not self.wh.scalar(f"SELECT count() FROM {quote_ident(self.table)} WHERE read_ms < from_ms"):
            return
        for table, column in self.job.window_columns:
            stage, kept = quote_ident(stages[table]), quote_ident(stages[table] + "_kept")
            self.wh.command(f"DROP TABLE IF EXISTS {kept}")
            self.wh.command(f"CREATE TABLE {kept} AS {stage}")
            self.wh.command(f"INSERT INTO {kept} SELECT * FROM {stage} WHERE {self.replaced(column)}")
            self.wh.command(f"EXCHANGE TABLES {stage} AND {kept}")
            self.wh.command(f"DROP TABLE {kept}")

    def drop(self) -> None:
        for t in (self.table, self.slice_t):
            self.wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": t})
