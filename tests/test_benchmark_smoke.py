"""Smoke test of benchmarks/run.py at a tiny size.

The benchmark runs in subprocesses with their own temp data directories; this
test process never opens a chDB client (chDB allows one path per process).
It also checks the independent pandas baseline agrees with Seamline's SQL on
that data and on the edge-case file of benchmarks/edge_cases.py (0
mismatches), and that incremental jobs == a full recompute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "benchmarks" / "run.py"


def test_benchmark_smoke(tmp_path):
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLINE_")}
    proc = subprocess.run(
        [sys.executable, str(RUN), "--sizes", "20k", "--pandas-sizes", "20k", "--out", str(out),
         "--tmp-dir", str(tmp_path), "--metrics-runs", "2", "--query-runs", "1", "--edge-cases"],
        capture_output=True, text=True, timeout=170, env=env, cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    res = json.loads(out.read_text())
    assert len(res["rows"]) == 1 and len(res["summary"]) == 1
    row, summ = res["rows"][0], res["summary"][0]
    assert not row["errors"], row["errors"]
    assert summ["events"] > 10_000
    assert row["seamline"]["load"]["loaded"] == summ["events"]
    assert summ["full_jobs_s"] > 0 and summ["scan_s"] > 0 and summ["incr_s"] is not None
    assert summ["incr_fixed_s"] is not None and summ["incr_fixed_events"] > 0
    assert summ["pages_p95_ms_max"] > 0 and summ["pages_warm_p95_ms_max"] is not None
    assert summ["metrics_p95_ms"] is not None and summ["pandas_s"] > 0
    assert summ["failed_jobs"] == []
    peaks = [j["peak_rss_mb"] for j in row["seamline"]["full_jobs"]["jobs"]]  # sampled per job (Linux)
    if sys.platform.startswith("linux"):
        assert all(p is not None and 50 < p <= row["seamline"]["peak_rss_mb"] + 1 for p in peaks), peaks
    assert row["mismatches"] == [], json.dumps(row["mismatches"], indent=1, default=str)
    assert row["seamline"]["incremental"]["incremental_vs_full_mismatches"] == []
    # the adversarial edge-case file (window boundaries, ties, identity links, late arrivals)
    edge = res["edge_cases"]
    assert not edge["errors"], edge["errors"]
    assert edge["failed_jobs"] == []
    assert edge["mismatches"] == [], json.dumps(edge["mismatches"], indent=1, default=str)
    assert edge["incremental_vs_full_mismatches"] == [], json.dumps(edge["incremental_vs_full_mismatches"], indent=1)
    # the table was printed
    assert "mismatches" in proc.stdout and "20k" in proc.stdout
