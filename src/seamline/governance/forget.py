"""Erase one customer everywhere Seamline keeps data (SPEC §8).

The customer is the connected component of the identifier given (SPEC §2),
found over every identity edge (committed or not) and the identity map.
Every stored table of the warehouse is then searched by its columns'
names - identifiers (``ident``, ``a``, ``b``, ``customer_id``, ...), customer
keys (``customer``), the component's event ids (``event_id``, ``event_ids``,
...) and the quarantine's raw text - so a table added later is covered by
the name of its columns; every text column of the metadata DB is searched
for the identifiers as words.  The rows found are deleted (mutations that
rewrite the parts, so nothing stays readable), while the jobs' leases are
held (no run reads half-erased data), and then every job recomputes in
full: freshness, regressions and the other aggregates change with the
customer's events, so the metrics equal those of the same data loaded
without them.

An audit record (metadata ``forget_requests``) keeps the time, a salted hash
of the request (not the identity hash: that would name the customer again)
and the rows removed per table.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from seamline.sqlfile import statement
from seamline.warehouse import Warehouse, quote_ident

# Columns that hold identifier nodes ('c:…', 'a:…', 'e:…', 'p:…'), raw
# identifier values, customer keys, or event ids.
NODE_COLUMNS = ("ident", "a", "b")
KEY_COLUMNS = ("customer",)
VALUE_COLUMNS = {"customer_id": "customer_ids", "anonymous_id": "anonymous_ids",
                 "email_hash": "email_hashes", "phone_hash": "phone_hashes"}
EVENT_COLUMNS = ("event_id", "message_event_id", "prev_event_id")
EVENT_ARRAY_COLUMNS = ("event_ids",)

# How long forget waits for running jobs to finish before giving up.
LEASE_WAIT_S = 600.0
KINDS = ("customer_id", "anonymous_id", "email", "phone")


class ForgetError(RuntimeError):
    """The request cannot be carried out (one line for the user)."""


def _sql(name: str) -> str:
    return statement("seamline.governance", "forget", name)


# Identifiers -----------------------------------------------------------------
def normalise(kind: str, value: str) -> str:
    """As the load normalises it (sql/load_parse.sql)."""
    value = value.strip()
    if kind == "email":
        return value.lower()
    if kind == "phone":
        return ("+" if value.startswith("+") else "") + re.sub(r"[^0-9]", "", value)
    return value


def hash_value(salt: str, kind: str, value: str) -> str:
    """The stored hash of a normalised email or phone (load_parse.sql's)."""
    return hashlib.sha256(f"{salt}:{kind}:{value}".encode()).hexdigest()


def node_of(salt: str, kind: str, value: str) -> str:
    """The identity node of an identifier given by a user."""
    value = normalise(kind, value)
    if not value or (kind == "phone" and not re.sub(r"[^0-9]", "", value)):
        raise ForgetError(f"empty {kind.replace('_', ' ')}")
    if kind == "customer_id":
        return f"c:{value}"
    if kind == "anonymous_id":
        return f"a:{value}"
    return ("e:" if kind == "email" else "p:") + hash_value(salt, kind, value)


def request_hash(salt: str, kind: str, value: str) -> str:
    """What the audit keeps of a request: unlike the identity hash, it matches no stored value."""
    return hashlib.sha256(f"{salt}:forget-request:{kind}:{normalise(kind, value)}".encode()).hexdigest()


def component(wh: Warehouse, start: str, blocked: list[str] | None = None, limit: int = 1_000_000) -> list[str]:
    """Every identifier node connected to ``start`` (itself included)."""
    nodes, frontier = {start}, [start]
    while frontier and len(nodes) < limit:
        found = wh.scalar(_sql("expand"), {"nodes": frontier, "blocked": list(blocked or [])})
        frontier = [n for n in found if n not in nodes]
        nodes.update(frontier)
    return sorted(nodes)


@dataclass
class Target:
    """What names one customer: identifier nodes and values, keys, events."""

    nodes: list[str]
    keys: list[str]
    event_ids: list[str]
    message_ids: list[str]
    raw: str  # the identifier as given (only ever searched for, never stored)

    def values(self, prefix: str) -> list[str]:
        return [n[2:] for n in self.nodes if n.startswith(prefix)]

    def params(self, salt: str) -> dict[str, Any]:
        return {"nodes": self.nodes, "keys": self.keys, "event_ids": self.event_ids,
                "customer_ids": self.values("c:"), "anonymous_ids": self.values("a:"),
                "email_hashes": self.values("e:"), "phone_hashes": self.values("p:"),
                "salt": salt, "needles": self.needles()}

    def needles(self) -> str:
        """A regular expression (RE2) of the values as words of free text ('c1' must not match 'c10')."""
        values = sorted(set(self.values("c:") + self.values("a:") + self.values("e:") + self.values("p:")
                            + ([self.raw] if self.raw else [])), key=len, reverse=True)
        if not values:
            return ""
        return r"(?i)(?:^|[^\w.@+-])(?:" + "|".join(re.escape(v) for v in values) + r")(?:$|[^\w.@-])"

    def words(self) -> list[str]:
        """Values searched for as words in the metadata DB's text."""
        return sorted(set(self.values("c:") + self.values("a:") + self.values("e:") + self.values("p:")
                          + self.keys + self.event_ids + self.message_ids + ([self.raw] if self.raw else [])))


def find_target(wh: Warehouse, salt: str, kind: str, value: str, blocked: list[str] | None = None) -> Target:
    start = node_of(salt, kind, value)
    nodes = component(wh, start, blocked)
    keys = wh.scalar(_sql("keys"), {"nodes": nodes})
    return Target(nodes=nodes, keys=sorted(keys), event_ids=sorted(wh.scalar(_sql("event_ids"), {"nodes": nodes})),
                  message_ids=sorted(wh.scalar(_sql("message_ids"), {"keys": keys})),
                  raw=normalise(kind, value) if kind in ("email", "phone") else "")


# Warehouse ------------------------------------------------------------------
def _is_text(type_: str) -> bool:
    return type_ in ("String", "LowCardinality(String)", "Nullable(String)", "LowCardinality(Nullable(String))")


def _conditions(table: str, columns: list[tuple[str, str]]) -> list[str]:
    """The WHERE terms that find the customer's rows of one table (identifiers quoted, values bound)."""
    q = quote_ident
    terms = []
    for name, type_ in columns:
        if table == "quarantine" and name == "raw":
            terms.append(f"({_sql('quarantine_where')})")
        elif not _is_text(type_) and not (name in EVENT_ARRAY_COLUMNS and type_ == "Array(String)"):
            continue
        elif name in NODE_COLUMNS:
            terms.append(f"has({{nodes:Array(String)}}, {q(name)})")
        elif name in KEY_COLUMNS:
            terms.append(f"has({{keys:Array(String)}}, {q(name)})")
        elif name in VALUE_COLUMNS:
            terms.append(f"({q(name)} != '' AND has({{{VALUE_COLUMNS[name]}:Array(String)}}, {q(name)}))")
        elif name in EVENT_COLUMNS:
            terms.append(f"has({{event_ids:Array(String)}}, {q(name)})")
        elif name in EVENT_ARRAY_COLUMNS:
            terms.append(f"hasAny({{event_ids:Array(String)}}, {q(name)})")
    return terms


def warehouse_plan(wh: Warehouse) -> dict[str, str]:
    """Table -> the WHERE clause of the customer's rows, for every table that can hold them."""
    plan = {}
    for table, columns in wh.rows(_sql("tables")):
        terms = _conditions(table, list(columns))
        if terms:
            plan[table] = " OR ".join(terms)
    return plan


def _count(wh: Warehouse, table: str, where: str, params: dict) -> int:
    return int(wh.scalar(f"SELECT count() FROM {quote_ident(table)} WHERE {where}", params) or 0)


def _delete(wh: Warehouse, table: str, where: str, params: dict) -> None:
    wh.command(f"ALTER TABLE {quote_ident(table)} DELETE WHERE {where} SETTINGS mutations_sync = 2", params)


# Metadata -------------------------------------------------------------------
def _audit_table():
    from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

    return Table("forget_requests", MetaData(),
                 Column("id", Integer, primary_key=True, autoincrement=True),
                 Column("at", DateTime(timezone=True), nullable=False),
                 Column("request_hash", String(64), nullable=False, index=True),
                 Column("removed", Text, nullable=False))  # JSON: table -> rows


AUDIT = None


def audit_table(md):
    global AUDIT
    if AUDIT is None:
        AUDIT = _audit_table()
    AUDIT.create(md.engine, checkfirst=True)
    return AUDIT


def metadata_matches(md, words: list[str]) -> dict[str, list[dict]]:
    """Table -> primary keys of the metadata rows whose text names one of ``words``."""
    from sqlalchemy import MetaData, String, Text, select

    if not words:
        return {}
    pattern = re.compile("|".join(rf"(?<![\w.@+-]){re.escape(w)}(?![\w.@-])" for w in sorted(words, key=len, reverse=True)))
    meta = MetaData()
    meta.reflect(md.engine)
    found: dict[str, list[dict]] = {}
    with md.engine.connect() as cx:
        for table in meta.sorted_tables:
            if table.name == "forget_requests":
                continue
            text_cols = [c for c in table.columns if isinstance(c.type, (String, Text))]
            pk = list(table.primary_key.columns) or list(table.columns)
            if not text_cols:
                continue
            for row in cx.execute(select(table)):
                m = row._mapping
                if any(m[c.name] and pattern.search(str(m[c.name])) for c in text_cols):
                    found.setdefault(table.name, []).append({c.name: m[c.name] for c in pk})
    return found


def _delete_metadata(md, found: dict[str, list[dict]]) -> None:
    from sqlalchemy import MetaData, and_, delete

    meta = MetaData()
    meta.reflect(md.engine)
    with md.engine.begin() as cx:
        for name, keys in found.items():
            table = meta.tables[name]
            for key in keys:
                cx.execute(delete(table).where(and_(*(table.c[k] == v for k, v in key.items()))))


# Leases ---------------------------------------------------------------------
def _hold_job_leases(md, wait_s: float) -> list[tuple[str, str]]:
    """Every job's lease, waiting for running jobs; raises ForgetError after ``wait_s``."""
    from seamline.runner import registry

    held: list[tuple[str, str]] = []
    deadline = time.monotonic() + wait_s
    try:
        for name in registry():
            lease = f"job:{name}"
            while (owner := md.acquire_lease(lease)) is None:
                if time.monotonic() > deadline:
                    raise ForgetError(f"job {name} is running and did not finish within {wait_s:.0f} s; "
                                      "nothing was erased, try again")
                time.sleep(0.5)
            held.append((lease, owner))
    except BaseException:
        _release(md, held)
        raise
    return held


def _release(md, held: list[tuple[str, str]]) -> None:
    for lease, owner in held:
        md.release_lease(lease, owner)


def _recompute(wh, md, settings, wait_s: float) -> list[dict]:
    """Every job in full; a job a scheduled run held meanwhile is run again."""
    from seamline.runner import run_jobs

    names, results, deadline = None, {}, time.monotonic() + wait_s
    while True:
        for r in run_jobs(wh, md, settings, names, full=True):
            if r.job not in results or results[r.job]["status"] != "success":
                results[r.job] = {"job": r.job, "status": r.status, "seconds": r.seconds, "error": r.error}
        again = [j for j, r in results.items() if r["status"] == "skipped"]
        if not again or time.monotonic() > deadline:
            return list(results.values())
        names = again
        time.sleep(0.5)


# Forget ---------------------------------------------------------------------
@dataclass
class ForgetReport:
    dry_run: bool
    request_hash: str
    identifiers: int
    events: int
    removed: dict[str, int] = field(default_factory=dict)           # warehouse table -> rows
    metadata_removed: dict[str, int] = field(default_factory=dict)  # metadata table -> rows
    jobs: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def forget(wh: Warehouse, md, settings, kind: str, value: str, dry_run: bool = False,
           wait_s: float = LEASE_WAIT_S) -> ForgetReport:
    """Erase the component of one identifier (``kind`` one of KINDS) and recompute."""
    from seamline.governance.guards import blocked_nodes, sync_blocklist

    if kind not in KINDS:
        raise ForgetError(f"unknown identifier kind {kind!r}")
    from seamline.governance import salt as installation

    started = time.monotonic()
    salt = installation.resolve(wh, settings)
    blocked = blocked_nodes(wh, settings)
    if not dry_run:
        sync_blocklist(wh, settings)
    if node_of(salt, kind, value) in blocked:
        raise ForgetError(f"this {kind.replace('_', ' ')} is a blocked identifier value (it identifies no one)")
    report = ForgetReport(dry_run=dry_run, request_hash=request_hash(salt, kind, value), identifiers=0, events=0)
    held = [] if dry_run else _hold_job_leases(md, wait_s)
    try:
        target = find_target(wh, salt, kind, value, blocked)
        params = target.params(salt)
        plan = warehouse_plan(wh)
        counts = {t: _count(wh, t, where, params) for t, where in plan.items()}
        report.removed = {t: n for t, n in counts.items() if n}
        found = metadata_matches(md, target.words())
        report.metadata_removed = {t: len(rows) for t, rows in found.items()}
        known = bool(report.removed)
        report.identifiers = len(target.nodes) if known else 0
        report.events = len(target.event_ids)
        if not dry_run:
            for table in report.removed:
                _delete(wh, table, plan[table], params)
            _delete_metadata(md, found)
            table = audit_table(md)
            with md.engine.begin() as cx:
                cx.execute(table.insert().values(at=datetime.now(timezone.utc), request_hash=report.request_hash,
                                                 removed=json.dumps(report.removed | {
                                                     f"metadata.{t}": n for t, n in report.metadata_removed.items()},
                                                     sort_keys=True)))
    finally:
        _release(md, held)
    if not dry_run and report.removed:
        report.jobs = _recompute(wh, md, settings, wait_s)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def audit_log(md) -> list[dict]:
    from sqlalchemy import select

    table = audit_table(md)
    with md.engine.connect() as cx:
        rows = [dict(r._mapping) for r in cx.execute(select(table).order_by(table.c.id))]
    for r in rows:
        r["removed"] = json.loads(r["removed"])
    return rows
