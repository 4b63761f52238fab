"""The ClickHouse warehouse: clients, identifier quoting, SQL files, migrations.

All access goes through clickhouse-connect.  The embedded default is chDB
(``chdb:///abs/path``); a server is the same code with an ``http(s)://`` DSN.
chDB allows one engine per process and per path, so clients are shared
process-wide per DSN (a small pool: several clients on one path run queries
in parallel).
"""

from __future__ import annotations

import os
import re
import sys
import threading
from contextlib import contextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any, Iterator

from seamline import publish

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from seamline.config import Settings


# chDB's allocator (jemalloc, read once when chDB is first imported) keeps
# freed memory for 5 s and purges it only when it allocates again, so the
# process held on to every earlier statement's peak.  A background purge after
# 1 s lowered a 10 M-event load and recompute's peak RSS by about 10 % for no
# measurable time.  An explicit JE_MALLOC_CONF wins.
os.environ.setdefault("JE_MALLOC_CONF", "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0")


class WarehouseError(RuntimeError):
    """A warehouse problem worth one clear line to the user."""


_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_ident(name: str) -> str:
    """The one quoting helper for identifiers (tables, databases, columns)."""
    if not isinstance(name, str) or not name:
        raise ValueError("identifier must be a non-empty string")
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def check_ident(name: str) -> str:
    """Accept only plain identifiers (used for names that come from config)."""
    if not _IDENT_RE.match(name or ""):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def sql_text(package: str, name: str) -> str:
    """Read a packaged .sql file, e.g. ``sql_text('seamline.jobs', 'freshness')``,
    or one named section of it (``'continuity:window'``: the text after its
    ``-- name: window`` line, see ``seamline.sqlfile``)."""
    if ":" in name:
        from seamline.sqlfile import statement

        return statement(package, *name.split(":", 1))
    return resources.files(package).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def split_statements(text: str) -> list[str]:
    """Split a SQL file on ``;`` at line end; drop comment-only chunks."""
    out = []
    for chunk in re.split(r";\s*(?:\n|$)", text):
        body = "\n".join(line for line in chunk.splitlines() if not line.strip().startswith("--")).strip()
        if body:
            out.append(chunk.strip())
    return out


# Per-query settings for every client: parallel INSERT ... SELECT, and sorts /
# aggregations that spill to disk past ~1 GB so large recomputes stay within
# a laptop's memory.  No JIT compilation of expressions: the engine compiles
# an expression the 4th time it sees it, which made that one dashboard query
# 100-200 ms slower (the p95 of a page), and it did not speed up the jobs
# (a full recompute at 10 M events: 22.7 s without, 24.2 s with).
CLIENT_SETTINGS = {
    "max_insert_threads": 2,
    # Events are partitioned by month, and a load may span any number of
    # months (SPEC §1: no whole-file aborts); the default limit of 100
    # partitions per insert block aborted a file spanning 150 months.
    "max_partitions_per_insert_block": 0,
    "max_bytes_before_external_sort": 1_000_000_000,
    "max_bytes_before_external_group_by": 1_000_000_000,
    "compile_expressions": 0,
    "compile_aggregate_expressions": 0,
    "compile_sort_description": 0,
}
# Set only where the engine knows them (chDB 4.4 / ClickHouse 26.9 here): DELETEs
# written as patch parts where the table keeps block numbers (migration
# 0008), as a mutation otherwise.
OPTIONAL_SETTINGS = {
    "lightweight_delete_mode": "lightweight_update",
}

_pools: dict[tuple[str, str], "_Pool"] = {}
_pools_lock = threading.Lock()


_quiet_lock = threading.Lock()


@contextmanager
def _quiet_open(engine: bool, noise: list[str]) -> Iterator[None]:
    """Open a client without the driver's own output: clickhouse-connect logs
    a warning before it raises, and chDB writes its errors (``Code: 76 …
    Cannot lock file``) straight to file descriptor 2.  Both are collected in
    ``noise``; when the open succeeds, whatever reached fd 2 meanwhile (other
    threads' lines too) is written back."""
    import logging
    import tempfile

    driver_log = logging.getLogger("clickhouse_connect")
    with _quiet_lock:  # one redirect at a time: fd 2 and the logger are process-wide
        collect = logging.Handler(logging.DEBUG)
        collect.emit = lambda record: noise.append(record.getMessage() + "\n")  # type: ignore[method-assign]
        propagate = driver_log.propagate
        driver_log.addHandler(collect)
        driver_log.propagate = False
        saved = tmp = None
        if engine:
            sys.stderr.flush()
            tmp = tempfile.TemporaryFile()
            saved = os.dup(2)
            os.dup2(tmp.fileno(), 2)
        ok = False
        try:
            yield
            ok = True
        finally:
            driver_log.removeHandler(collect)
            driver_log.propagate = propagate
            if tmp is not None and saved is not None:
                os.dup2(saved, 2)
                os.close(saved)
                tmp.seek(0)
                captured = tmp.read()
                tmp.close()
                if ok and captured:
                    os.write(2, captured)
                elif captured:
                    noise.append(captured.decode("utf-8", "replace"))


class _Pool:
    def __init__(self, dsn: str, database: str, size: int = 4):
        self.dsn, self.database, self.size = dsn, database, size
        self._free: list[Any] = []
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._sem = threading.Semaphore(size)

    def _new_client(self, database: str | None) -> Any:
        import clickhouse_connect

        kwargs: dict[str, Any] = {"dsn": self.dsn, "settings": dict(CLIENT_SETTINGS)}
        if database:
            kwargs["database"] = database
        noise: list[str] = []
        try:
            with _quiet_open(self.dsn.startswith("chdb:"), noise):
                client = clickhouse_connect.get_client(**kwargs)
            for key, value in OPTIONAL_SETTINGS.items():
                if key in getattr(client, "server_settings", {}):
                    client.set_client_setting(key, value)
            return client
        except Exception as exc:  # one line for the user; the engine's own text only with SEAMLINE_DEBUG=1
            text = str(exc)
            if os.environ.get("SEAMLINE_DEBUG") and noise:
                sys.stderr.write("".join(noise))
            if self.dsn.startswith("chdb:") and ("EmbeddedServer" in text or "BAD_ARGUMENTS" in text
                                                  or any("Cannot lock file" in n for n in noise)):
                path = self.dsn.removeprefix("chdb://")
                raise WarehouseError(
                    f"another Seamline process is using the embedded warehouse at {path} "
                    "(chDB allows one process per data directory): stop it, or set SEAMLINE_DATA_DIR"
                ) from None
            cause = re.search(r"\[Errno -?\d+\] ([^\"')\]]+)", text)
            detail = cause.group(1).strip().rstrip(".") if cause else (text.splitlines()[0][:300] if text else repr(exc))
            raise WarehouseError(f"cannot connect to the warehouse {redact(self.dsn)}: {detail}") from None

    def acquire(self) -> Any:
        self._sem.acquire()
        with self._lock:
            if self._free:
                return self._free.pop()
        try:
            if not self._all:
                # make sure the database exists before binding clients to it
                boot = self._new_client(None)
                boot.command(f"CREATE DATABASE IF NOT EXISTS {quote_ident(self.database)}")
                with self._lock:
                    self._all.append(boot)
            client = self._new_client(self.database)
        except BaseException:
            self._sem.release()
            raise
        with self._lock:
            self._all.append(client)
        return client

    def release(self, client: Any) -> None:
        with self._lock:
            self._free.append(client)
        self._sem.release()

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except Exception:
                    pass
            self._all.clear()
            self._free.clear()


def redact(dsn: str) -> str:
    return re.sub(r"//([^:/@]+):([^@]+)@", r"//\1:***@", dsn)


class Warehouse:
    """Thin facade over a pool of clickhouse-connect clients bound to one database."""

    def __init__(self, dsn: str, database: str, cluster: str = ""):
        self.dsn = dsn
        self.database = check_ident(database)
        self.cluster = cluster
        key = (dsn, database)
        with _pools_lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = _Pool(dsn, database)
        self._pool = pool

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Warehouse":
        if settings.is_embedded:
            settings.data_path.mkdir(parents=True, exist_ok=True)
        return cls(settings.warehouse_dsn, settings.warehouse_database, settings.cluster)

    @contextmanager
    def client(self) -> Iterator[Any]:
        c = self._pool.acquire()
        try:
            yield c
        finally:
            self._pool.release(c)

    # Query helpers -------------------------------------------------------
    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        with self.client() as c:
            return c.command(sql, parameters=parameters or {})

    # Reads wait while a job run switches its rows in (seamline.publish):
    # the lock comes before the client, so a waiting read holds no client.
    def rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple]:
        with publish.reading(), self.client() as c:
            return c.query(sql, parameters=parameters or {}).result_rows

    def dicts(self, sql: str, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with publish.reading(), self.client() as c:
            res = c.query(sql, parameters=parameters or {})
            return [dict(zip(res.column_names, r)) for r in res.result_rows]

    def scalar(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        rows = self.rows(sql, parameters)
        return rows[0][0] if rows else None

    def df(self, sql: str, parameters: dict[str, Any] | None = None) -> "pd.DataFrame":
        with publish.reading(), self.client() as c:
            return c.query_df(sql, parameters=parameters or {})

    def insert(self, table: str, rows: list[list[Any]] | list[tuple], column_names: list[str]) -> None:
        if not rows:
            return
        with self.client() as c:
            c.insert(table, rows, column_names=column_names)

    def insert_df(self, table: str, frame: "pd.DataFrame") -> None:
        if frame.empty:
            return
        with self.client() as c:
            c.insert_df(table, frame)

    def run_script(self, text: str, parameters: dict[str, Any] | None = None) -> None:
        """Run every statement of a SQL file in order with the same parameters."""
        for stmt in split_statements(text):
            used = {k: v for k, v in (parameters or {}).items() if "{" + k + ":" in stmt}
            self.command(stmt, used)

    def release_memory(self) -> None:
        """Give the memory a finished job freed back to the system (embedded
        engine only; best effort).  The engine's allocator and Arrow's keep
        freed memory for reuse, and the next job's peak came on top of it: at
        50 M events 1.4 GB was held after the identity job, 0.7 GB after this."""
        if not self.dsn.startswith("chdb:"):
            return
        if "pyarrow" in sys.modules:
            sys.modules["pyarrow"].default_memory_pool().release_unused()
        try:
            self.command("SYSTEM JEMALLOC PURGE")
        except Exception:  # an engine built without jemalloc: nothing to give back
            pass

    def table_exists(self, name: str) -> bool:
        return bool(self.scalar(
            "SELECT count() FROM system.tables WHERE database = {db:String} AND name = {t:String}",
            {"db": self.database, "t": name},
        ))

    def close(self) -> None:
        with _pools_lock:
            pool = _pools.pop((self.dsn, self.database), None)
        if pool:
            pool.close()


def close_all() -> None:
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for p in pools:
        p.close()
