"""Schema migrations are numbered, idempotent and recorded; cluster DDL renders
ON CLUSTER with Replicated engines (rendered only: no cluster here)."""

from __future__ import annotations

from seamline.warehouse import quote_ident
from seamline.warehouse.schema import migrate, migrations, render_ddl, schema_version


def test_migrations_are_numbered_and_idempotent(wh):
    versions = [m.version for m in migrations()]
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert schema_version(wh) == versions[-1]
    assert migrate(wh) == []  # the fixture applied them already
    assert wh.scalar("SELECT count() FROM schema_migrations FINAL") == len(versions)
    for table in ("events", "quarantine", "identity_map", "transitions", "incidents", "freshness_hourly"):
        assert wh.table_exists(table)


def test_cluster_rendering():
    stmt = ("CREATE TABLE IF NOT EXISTS quarantine (a String, quarantined_at DateTime64(3, 'UTC')) "
            "ENGINE = ReplacingMergeTree(quarantined_at) ORDER BY a")
    out = render_ddl(stmt, "prod")
    assert out.startswith("CREATE TABLE IF NOT EXISTS quarantine ON CLUSTER `prod`")
    assert ("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', "
            "'{replica}', quarantined_at)") in out
    plain = render_ddl("CREATE TABLE t (a String) ENGINE = MergeTree ORDER BY a", "prod")
    assert "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')" in plain
    mv = render_ddl("CREATE MATERIALIZED VIEW IF NOT EXISTS v TO t AS SELECT 1", "prod")
    assert mv.startswith("CREATE MATERIALIZED VIEW IF NOT EXISTS v ON CLUSTER `prod` TO t")
    assert render_ddl(stmt, "") == stmt
    for m in migrations():  # every DDL statement renders, every table engine becomes Replicated
        for s in m.statements:
            r = render_ddl(s, "prod")
            if r.lstrip().upper().startswith("INSERT"):  # a backfill: runs once, replicated by the table
                assert "ON CLUSTER" not in r
                continue
            assert "ON CLUSTER `prod`" in r
            if "ENGINE = " in s and "Memory" not in s:
                assert "Replicated" in r


def test_quote_ident():
    assert quote_ident("events") == "`events`"
    assert quote_ident("we`ird\\x") == "`we\\`ird\\\\x`"
