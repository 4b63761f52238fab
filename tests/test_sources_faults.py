"""A sync killed at any moment (SIGKILL at a named point, ``seamline.faults``)
and run again ends exactly as one clean sync: the same events, dedup keys,
quarantine, committed identity edges and watermarks, and nothing left
running or staged.

Each run is a child process (the embedded engine allows one process per
data directory): ``python tests/test_sources_faults.py setup|snapshot``
prepares PostHog-shaped tables or prints what a run left.  The default run
kills at a sample of the points; ``SEAMLINE_FAULTS=all`` at every one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALL = os.environ.get("SEAMLINE_FAULTS") == "all"
POINTS = ["load.intent", "sources.table_staged", "load.staged", "load.events_written", "load.events_written#2",
          "load.batch_written#2", "sources.edges", "load.commit", "load.committed", "load.fold_step",
          "sources.committed"]
SAMPLE = {"load.events_written#2", "sources.edges", "load.committed"}

TOML = """
[[sources]]
name = "posthog"
kind = "posthog"
database = "posthog"
types = { ticket_opened = "contact" }
"""


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLINE_")}
    env.update(SEAMLINE_DATA_DIR=str(data), SEAMLINE_HASH_SALT="fault-salt", SEAMLINE_LOAD_BATCH_ROWS="3",
               SEAMLINE_CONFIG=str(data / "seamline.toml"), PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT / 'tests'}")
    return env


def _run(data: Path, *argv: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = _env(data)
    if kill_at:
        env["SEAMLINE_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, *argv], env=env, capture_output=True, text=True, timeout=300,
                          cwd=data.parent)


def _sync(data: Path, kill_at: str | None = None) -> subprocess.CompletedProcess:
    return _run(data, "-m", "seamline.cli", "sources", "sync", "--json", kill_at=kill_at)


def _snapshot(data: Path) -> dict:
    res = _run(data, __file__, "snapshot")
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A data directory with the source tables, and the result of one clean sync."""
    root = tmp_path_factory.mktemp("sources_faults")
    base = root / "base" / "data"
    base.mkdir(parents=True)
    (base / "seamline.toml").write_text(TOML)
    res = _run(base, __file__, "setup")
    assert res.returncode == 0, res.stderr[-3000:]
    clean = root / "clean" / "data"
    shutil.copytree(base, clean, symlinks=True)
    res = _sync(clean)
    assert res.returncode == 0, res.stderr[-2000:]
    counts = json.loads(res.stdout)
    assert {k: counts[k] for k in ("read", "loaded", "duplicates", "quarantined")} == \
        {"read": 9, "loaded": 7, "duplicates": 1, "quarantined": 1}
    return root, base, _snapshot(clean)


@pytest.mark.parametrize("point", [p for p in POINTS if ALL or p in SAMPLE])
def test_a_killed_sync_run_again_is_one_clean_sync(prepared, point):
    root, base, clean = prepared
    data = root / point.replace("#", "_") / "data"
    shutil.copytree(base, data, symlinks=True)
    killed = _sync(data, kill_at=point)
    assert killed.returncode == -9, f"the sync did not reach {point}: {killed.stderr[-2000:]}"
    again = _sync(data)
    assert again.returncode == 0, again.stderr[-2000:]
    got = _snapshot(data)
    assert got == clean


# Child side ------------------------------------------------------------------
def setup() -> None:
    from seamline.config import Settings
    from seamline.warehouse import Warehouse
    from seamline.warehouse.schema import migrate

    from test_sources_upstream import UPSTREAM_DDL
    from seamline.warehouse import split_statements

    wh = Warehouse.from_settings(Settings())
    migrate(wh)
    bare = "\n".join(line.split("--")[0].rstrip() for line in UPSTREAM_DDL.splitlines())
    for stmt in split_statements(bare):
        if "posthog" in stmt:
            wh.command(stmt)
    rows = [(1, "$pageview", {"$lib": "web"}, "d1"), (2, "ticket_opened", {"customer_id": "c1", "topic": "billing"}, "d1"),
            (3, "message", {"channel": "email", "kind": "promo", "product": "p1"}, "d2"),
            (4, "survey", {"ces": "9"}, "d2"), (5, "login", {}, "d3"), (6, "login", {}, "d4"),
            (7, "purchase", {"product": "p1"}, "d4"), (8, "churn", {}, "d5"),
            (8, "churn", {}, "d5")]  # the same uuid twice (a ReplacingMergeTree not merged yet)
    for n, event, props, d in rows:
        wh.command("INSERT INTO posthog.events (uuid, event, properties, timestamp, team_id, distinct_id, _timestamp, "
                   "inserted_at) VALUES ({u:UUID}, {e:String}, {p:String}, {ts:DateTime64(6, 'UTC')}, 1, {d:String}, "
                   "{ts:DateTime}, {ts:DateTime64(6, 'UTC')})",
                   {"u": f"00000000-0000-0000-0000-{n:012d}", "e": event, "p": json.dumps(props), "d": d,
                    "ts": f"2026-03-01 09:0{n}:00"})
    for d, person, version in (("d1", 1, 0), ("d2", 1, 0), ("d3", 2, 0), ("d4", 2, 1), ("d5", 3, 0)):
        wh.command("INSERT INTO posthog.person_distinct_id2 (team_id, distinct_id, person_id, is_deleted, version, "
                   "_timestamp) VALUES (1, {d:String}, {p:UUID}, 0, {v:Int64}, '2026-03-01 09:00:00')",
                   {"d": d, "p": f"00000000-0000-0000-0000-{person:012d}", "v": version})


def snapshot() -> dict:
    from seamline.config import Settings
    from seamline.warehouse import Warehouse

    wh = Warehouse.from_settings(Settings())
    out = {
        "events": wh.rows("SELECT count(), sum(cityHash64(event_id, occurred_at, ingested_at, source, channel, "
                          "direction, type, ident, customer_id, anonymous_id, email_hash, phone_hash, topic, case_id, "
                          "attrs)) FROM events"),
        "event_keys": wh.rows("SELECT count(), uniqExact(event_id) FROM event_keys FINAL"),
        "quarantine": wh.rows("SELECT file, line, reason FROM quarantine FINAL ORDER BY line"),
        "edges": wh.rows("SELECT DISTINCT a, b FROM identity_edges_committed ORDER BY a, b"),
        "edges_in_flight": wh.scalar("SELECT count() FROM identity_edges WHERE load_id != ''"),
        "watermarks": wh.rows("SELECT watermarks FROM source_syncs WHERE status = 'ok' "
                              "ORDER BY finished_at DESC LIMIT 1"),
        "loads_running": wh.scalar("SELECT count() FROM (SELECT load_id FROM load_intents GROUP BY load_id "
                                   "HAVING argMax(state, heartbeat_at) = 'running')"),
        "staging": wh.rows("SELECT name FROM system.tables WHERE database = currentDatabase() "
                           "AND startsWith(name, '_load_')"),
    }
    return json.loads(json.dumps(out, default=str))


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup()
    else:
        print(json.dumps(snapshot(), sort_keys=True))
