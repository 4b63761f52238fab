"""Smoke test of benchmarks/sources_sync.py at a tiny size, so that the
benchmark cannot rot: it runs end to end (generate, load, PostHog table,
full and incremental sync) and finds the same events in both warehouses.

The benchmark runs in subprocesses with their own temp data directories;
this test process never opens a chDB client (chDB allows one path per
process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "sources_sync.py"


def test_sources_sync_benchmark_smoke(tmp_path):
    out = tmp_path / "sources_sync.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLINE_")}
    proc = subprocess.run([sys.executable, str(SCRIPT), "--events", "20k", "--out", str(out),
                           "--tmp-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=170, env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    res = json.loads(out.read_text())
    assert res["mismatches"] == [] and len(res["runs"]) == 1
    run = res["runs"][0]
    s, load, sync = run["summary"], run["load"], run["sync"]
    assert res["summary"] == [s]
    assert s["events"] > 10_000 and load["history"]["loaded"] == s["events"] == sync["full"]["loaded"]
    assert sync["full"]["events"] == load["history"]["events"] and sync["full"]["checksum"] == load["history"]["checksum"]
    assert s["load_events_per_s"] > 0 and s["sync_events_per_s"] > 0 and s["sync_over_load"] > 0
    # the incremental hour: its new rows are stored once; nothing new stores nothing
    assert sync["hour"]["loaded"] == load["hour"]["loaded"] > 0 and s["hour_sync_s"] > 0
    assert sync["nothing_new"]["loaded"] == 0
    # every statement was timed by kind, the mapping and the shared parse among them
    assert {"map: INSERT … SELECT into the stage", "parse + validate (load_parse)", "events insert + dedup"} \
        <= set(sync["full"]["statements"])
    assert res["machine"]["cpus"] and len(run["rounds"]) == 1 and run["rounds"][0]["load_avg_before_sync"] is not None
    assert "sync ev/s" in proc.stdout and "same events in both warehouses" in proc.stdout
