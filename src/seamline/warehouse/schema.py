"""Numbered, idempotent schema migrations recorded in the warehouse."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from seamline.warehouse import Warehouse, quote_ident, split_statements

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files("seamline.warehouse").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), tuple(split_statements(entry.read_text("utf-8")))))
    return sorted(found, key=lambda m: m.version)


_ENGINE = re.compile(r"ENGINE\s*=\s*(Replacing|Aggregating|Summing)?MergeTree(\(([^)]*)\))?", re.IGNORECASE)
_CREATE = re.compile(
    r"^(\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|MATERIALIZED\s+VIEW|VIEW|DATABASE)\s+(?:IF\s+NOT\s+EXISTS\s+)?[`\w.]+)",
    re.IGNORECASE,
)


def render_ddl(statement: str, cluster: str = "") -> str:
    """Render a statement for a cluster: ``ON CLUSTER`` and Replicated engines.

    With no cluster the statement is returned unchanged (single node / chDB).
    """
    if not cluster:
        return statement
    lines = [ln for ln in statement.splitlines() if not ln.strip().startswith("--")]
    text = "\n".join(lines)
    text = _CREATE.sub(lambda m: f"{m.group(1)} ON CLUSTER {quote_ident(cluster)}", text, count=1)
    if re.match(r"^\s*(ALTER|DROP|TRUNCATE)\b", text, re.IGNORECASE) and " ON CLUSTER " not in text:
        text = re.sub(r"^(\s*(?:ALTER|DROP|TRUNCATE)\s+(?:TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?[`\w.]+)",
                      lambda m: f"{m.group(1)} ON CLUSTER {quote_ident(cluster)}", text, count=1, flags=re.IGNORECASE)

    def engine(m: re.Match) -> str:
        kind = m.group(1) or ""
        args = (m.group(3) or "").strip()
        zk = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
        return f"ENGINE = Replicated{kind}MergeTree({zk}{', ' + args if args else ''})"

    return _ENGINE.sub(engine, text)


def migrate(wh: Warehouse) -> list[str]:
    """Apply pending migrations and roll back loads killed before they
    committed; returns the names of the migrations applied.  Safe to re-run."""
    wh.command(render_ddl(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, "
        "applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY version",
        wh.cluster,
    ))
    done = {r[0] for r in wh.rows("SELECT version FROM schema_migrations")}
    applied = []
    for mig in migrations():
        if mig.version in done:
            continue
        for stmt in mig.statements:
            wh.command(render_ddl(stmt, wh.cluster))
        wh.insert("schema_migrations", [[mig.version, mig.name]], ["version", "name"])
        applied.append(f"{mig.version:04d}_{mig.name}")
    # every process that opens the warehouse first undoes what a killed load
    # left (its process is gone), so nothing reads or loads on top of it
    from seamline.load import recover_loads

    recover_loads(wh)
    return applied


def schema_version(wh: Warehouse) -> int:
    if not wh.table_exists("schema_migrations"):
        return 0
    return int(wh.scalar("SELECT max(version) FROM schema_migrations") or 0)
