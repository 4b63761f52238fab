"""Seamline scale benchmark (and pandas cross-check).

    python benchmarks/run.py --sizes 1M,10M,50M --pandas-sizes 1M,5M --out benchmarks/results.json

For every size N (``200k``, ``1M``, ``10M`` …) the orchestrator (this process,
which never opens chDB) makes a temp directory and runs, each in a fresh
subprocess of this script so that one chDB path is used by one process:

1. ``--step generate``: ``seamline.sample.generate`` → ``events.jsonl.gz``
   (~N events over 90 days) plus two hours of new events just after the end
   of the data: ``new_hour_fixed.jsonl`` (the first hour, ~4,000 events at
   every N: the same increment on any history) and ``new_hour.jsonl`` (the
   second hour, ~N / 2160 events: an hour of a business of that size);
2. ``--step seamline``: load (events/s, peak RSS), full recompute of every job,
   a plain scan of the columns the jobs read (ratio jobs / scan), period
   metrics for the 90-day period and a 30-day sub-period (kept for the
   cross-check), ``period_metrics`` latency (p50/p95 over ``--metrics-runs``),
   the dashboard datasets of ``seamline.queries`` (p50/p95 ms each), then the
   new hours, each: load + incremental jobs (seconds), and — at pandas sizes — a
   second full recompute to check that incremental == full (SPEC §4);
3. at ``--pandas-sizes``: ``benchmarks/pandas_baseline.py`` on the same file in
   its own subprocess (time, peak RSS), then ``compare`` → mismatches.

It prints one table and writes JSON (``--out``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

DAYS = 90
FIXED_HOUR_EVENTS = 4000  # ~ the hour of the 10 M data set (10 M / 2160 h = 4,600)
EVENTS_PER_CUSTOMER_90D = 61.3  # measured: seamline.sample with days=90 (seed 7) makes ~61 events/customer
SEED = 7


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def parse_size(text: str) -> int:
    t = text.strip().lower().replace("_", "")
    mult = 1
    if t.endswith("k"):
        mult, t = 1_000, t[:-1]
    elif t.endswith("m"):
        mult, t = 1_000_000, t[:-1]
    elif t.endswith("g") or t.endswith("b"):
        mult, t = 1_000_000_000, t[:-1]
    return int(round(float(t) * mult))


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 1_000 and n % 100 == 0:
        return f"{n / 1_000:g}k"
    return str(n)


def peak_rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024.0 * 1024.0) if sys.platform == "darwin" else r / 1024.0


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLINE_")}
    env["SEAMLINE_CONFIG"] = os.devnull + ".none.toml"  # never pick up a seamline.toml from the cwd
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


# ---------------------------------------------------------------------------
# step 1: generate
# ---------------------------------------------------------------------------
def step_generate(n: int, d: Path, seed: int) -> dict[str, Any]:
    from seamline.sample import generate

    customers = max(10, int(round(n / EVENTS_PER_CUSTOMER_90D)))
    path = d / "events.jsonl.gz"
    t0 = time.perf_counter()
    res = generate(path, customers=customers, days=DAYS, seed=seed, bad_rows=False)
    secs = time.perf_counter() - t0
    out: dict[str, Any] = {"customers": customers, "events": res.events, "gen_seconds": round(secs, 3),
                           "gen_events_per_s": round(res.events / secs, 1), "start": iso(res.start),
                           "end": iso(res.end), "file_mb": round(path.stat().st_size / 2**20, 2)}
    fixed = _new_hour(d, res.end, min(FIXED_HOUR_EVENTS, max(20, n // 20)), seed + 2000, "new_hour_fixed.jsonl")
    out.update({f"new_hour_fixed_{k[9:]}": v for k, v in fixed.items()})
    out.update(_new_hour(d, res.end + timedelta(hours=1), max(20, int(round(n / (DAYS * 24)))), seed + 1000,
                         "new_hour.jsonl"))
    return out


def _hour_lines(path: Path, a: str, b: str) -> list[str]:
    keep = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            occ = json.loads(line)["occurred_at"]
            if a <= occ < b:
                keep.append(line)
    return keep


def _new_hour(d: Path, hour: datetime, target: int, seed: int, name: str) -> dict[str, Any]:
    """About ``target`` new events in [hour, hour + 1 h): a second sample (other
    seed, so other event ids; same customer ids, so they extend existing
    customers) whose busy afternoon hour is aligned on ``hour``."""
    from seamline.sample import generate

    start = hour - timedelta(days=3, hours=14)
    a = hour.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    b = (hour + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    tmp = d / "_probe.jsonl"
    probe = 2000
    generate(tmp, customers=probe, days=8, seed=seed, start=start, bad_rows=False)
    per_customer = max(len(_hour_lines(tmp, a, b)) / probe, 1e-3)
    customers = max(10, int(math.ceil(target / per_customer)))
    generate(tmp, customers=customers, days=8, seed=seed, start=start, bad_rows=False)
    lines = _hour_lines(tmp, a, b)
    (d / name).write_text("".join(lines), encoding="utf-8")
    for f in (tmp, tmp.with_name("_probe.planted.json")):
        f.unlink(missing_ok=True)
    return {"new_hour_events": len(lines), "new_hour_from": a, "new_hour_to": b}


# ---------------------------------------------------------------------------
# step 2: Seamline
# ---------------------------------------------------------------------------
SCAN_SQL = ("SELECT count(), sum(cityHash64(event_id, ident, occurred_at, ingested_at, source, channel, "
            "direction, type, topic, case_id)) FROM events")
SCAN_ATTRS_SQL = ("SELECT count(), sum(cityHash64(event_id, ident, occurred_at, ingested_at, source, channel, "
                  "direction, type, topic, case_id, mapKeys(attrs), mapValues(attrs))) FROM events")


class RssSampler:
    """The process's resident memory sampled every 0.1 s in a thread (Linux:
    /proc/self/statm), so a run can say which of its jobs peaked; ``take()``
    returns the maximum (MiB) since the previous call, or None elsewhere."""

    def __init__(self) -> None:
        self.page_mb = os.sysconf("SC_PAGE_SIZE") / (1024.0 * 1024.0) if hasattr(os, "sysconf") else 0.0
        self.high, self.stop = 0.0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        if Path("/proc/self/statm").exists():
            self.thread.start()

    def _now(self) -> float:
        return int(Path("/proc/self/statm").read_text().split()[1]) * self.page_mb

    def _run(self) -> None:
        while not self.stop.wait(0.1):
            self.high = max(self.high, self._now())

    def take(self) -> float | None:
        if not self.thread.is_alive():
            return None
        high, self.high = max(self.high, self._now()), 0.0
        return round(high, 1)

    def close(self) -> None:
        self.stop.set()


def _jobs(wh, md, settings, full: bool) -> tuple[float, list[dict]]:
    from seamline.runner import run_jobs

    rss: dict[str, float | None] = {}
    sampler = RssSampler()
    sampler.take()
    t0 = time.perf_counter()
    try:  # a job's peak: one at a time in a full run; two overlap in an increment
        res = run_jobs(wh, md, settings, full=full, on_result=lambda r: rss.__setitem__(r.job, sampler.take()))
    finally:
        sampler.close()
    secs = time.perf_counter() - t0
    return secs, [{"job": r.job, "status": r.status, "seconds": r.seconds, "rows": r.rows, "error": r.error,
                   "peak_rss_mb": rss.get(r.job)} for r in res]


def _timed(fn, runs: int, before=None) -> dict[str, Any]:
    """p50/p95/max of ``runs`` calls of ``fn`` (``before`` runs untimed ahead of each)."""
    times, err = [], None
    for _ in range(runs):
        if before is not None:
            before()
        t0 = time.perf_counter()
        try:
            fn()
        except Exception as exc:  # a page dataset that fails is reported, not fatal
            err = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
            break
        times.append((time.perf_counter() - t0) * 1000.0)
    return {"runs": len(times), "p50_ms": _r(pct(times, 0.5)), "p95_ms": _r(pct(times, 0.95)),
            "max_ms": _r(max(times) if times else None), "error": err}


def _r(x, nd=2):
    return None if x is None else round(x, nd)


def _query_datasets(wh, md, settings, start: datetime, end: datetime, runs: int) -> dict[str, Any]:
    """Time every dataset registered in ``seamline.queries.DATASETS`` (signature (ctx, state))."""
    try:
        from seamline import queries
    except Exception as exc:
        return {"_error": f"seamline.queries not importable: {exc}"}
    Ctx, State = getattr(queries, "Ctx", None), getattr(queries, "State", None)
    datasets = getattr(queries, "DATASETS", {})
    if Ctx is None or State is None or not datasets:
        return {"_error": "seamline.queries has no Ctx/State/DATASETS"}
    ctx = Ctx(wh=wh, settings=settings, md=md)
    extra = {}
    try:
        row = wh.rows("SELECT rule, message_event_id FROM incidents ORDER BY at LIMIT 1")
        if row:
            extra["incident"] = f"{row[0][0]}|{row[0][1]}"
    except Exception:
        pass
    state = State(preset="90d", start=start, end=end, extra=extra)
    out = {}
    # A running server has served views before (``seamline serve`` warms every
    # page once after starting): its code is imported.  So every dataset is
    # computed once for another period (the last 7 days) first, untimed;
    # importing SciPy is a cost per process, not per view.
    week = State(preset="7d", start=end - timedelta(days=7), end=end, extra=extra)
    for fn in datasets.values():
        try:
            fn(ctx, week)
        except Exception:  # reported by the timed calls below
            pass
    # cold: every call computes (the cache is cleared first), as for a view no
    # one has opened since the last job run
    for key, fn in sorted(datasets.items()):
        out[key] = _timed(lambda fn=fn: fn(ctx, state), runs, before=queries.clear_cache)
    # served: what a visitor gets once the server has warmed the view after the
    # job run (``seamline.queries.warm``, run by ``seamline serve``)
    warm = getattr(queries, "warm", None)
    if warm is not None:
        warm(ctx, state)
        for key, fn in sorted(datasets.items()):
            served = _timed(lambda fn=fn: fn(ctx, state), runs)
            out[key]["warm_p50_ms"], out[key]["warm_p95_ms"] = served["p50_ms"], served["p95_ms"]
    return out


def open_warehouse(d: Path):
    """(settings, warehouse, metadata) of a benchmark directory's embedded Seamline, migrated."""
    from seamline.config import Settings
    from seamline.metadata import Metadata
    from seamline.warehouse import Warehouse
    from seamline.warehouse.schema import migrate

    settings = Settings(data_dir=d / "seamline", hash_salt="bench-salt")
    wh = Warehouse.from_settings(settings)
    migrate(wh)
    return settings, wh, Metadata(settings.metadata_dsn)


def step_seamline(d: Path, gen: dict[str, Any], metrics_runs: int, query_runs: int, check_full: bool,
                  periods: list[tuple[str, str]]) -> dict[str, Any]:
    from seamline.load import load_file
    from seamline.metrics import period_metrics

    settings, wh, md = open_warehouse(d)
    out: dict[str, Any] = {}

    t0 = time.perf_counter()
    rep = load_file(wh, d / "events.jsonl.gz", settings.hash_salt, settings.load_batch_rows, progress=False)
    secs = time.perf_counter() - t0
    out["load"] = {"seconds": round(secs, 3), "read": rep.read, "loaded": rep.loaded,
                   "duplicates": rep.duplicates, "quarantined": rep.quarantined,
                   "events_per_s": round(rep.read / secs, 1), "peak_rss_mb": round(peak_rss_mb(), 1)}

    secs, res = _jobs(wh, md, settings, full=True)
    out["full_jobs"] = {"seconds": round(secs, 3), "jobs": res,
                        "failed": [r["job"] for r in res if r["status"] != "success"]}

    scans = []
    for sql in (SCAN_SQL, SCAN_ATTRS_SQL):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            wh.rows(sql)
            times.append(time.perf_counter() - t0)
        scans.append(times)
    out["scan"] = {"seconds": round(statistics.median(scans[0]), 4),
                   "seconds_with_attrs": round(statistics.median(scans[1]), 4),
                   "first_seconds": round(scans[0][0], 4), "sql": SCAN_SQL}
    out["jobs_over_scan"] = round(out["full_jobs"]["seconds"] / max(out["scan"]["seconds_with_attrs"], 1e-9), 1)

    # metrics for the cross-check (before the new hour is added)
    out["metrics"] = [period_metrics(wh, settings, parse_iso(a), parse_iso(b)) for a, b in periods]
    start, end = parse_iso(periods[0][0]), parse_iso(periods[0][1])
    out["period_metrics_latency"] = _timed(lambda: period_metrics(wh, settings, start, end), metrics_runs)
    out["queries"] = _query_datasets(wh, md, settings, start, end, query_runs)
    q = [v for v in out["queries"].values() if isinstance(v, dict) and v.get("p95_ms") is not None]
    out["queries_p95_ms_max"] = max((v["p95_ms"] for v in q), default=None)
    out["queries_warm_p95_ms_max"] = max((v["warm_p95_ms"] for v in q if v.get("warm_p95_ms") is not None),
                                         default=None)
    out["queries_over_150ms"] = sorted(k for k, v in out["queries"].items()
                                       if isinstance(v, dict) and (v.get("p95_ms") or 0) > 150)
    out["queries_errors"] = {k: v["error"] for k, v in out["queries"].items()
                             if isinstance(v, dict) and v.get("error")}
    out["peak_rss_mb_before_incremental"] = round(peak_rss_mb(), 1)

    # one hour of new events, incremental jobs.  An hourly increment in production
    # finds the background merges of the full run, and of the hour before, long
    # finished: wait for them (and say how long) so each increment is timed in
    # that state.
    out["merges_settle_seconds"] = _settle(wh)
    for key, name in (("incremental_fixed", "new_hour_fixed.jsonl"), ("incremental", "new_hour.jsonl")):
        newf = d / name
        if not (newf.exists() and newf.stat().st_size):
            continue
        settle_s = _settle(wh) if key != "incremental_fixed" else 0.0
        t0 = time.perf_counter()
        rep = load_file(wh, newf, settings.hash_salt, settings.load_batch_rows, progress=False)
        load_s = time.perf_counter() - t0
        secs, res = _jobs(wh, md, settings, full=False)
        out[key] = {"events": rep.loaded, "settle_seconds": settle_s, "load_seconds": round(load_s, 3),
                    "jobs_seconds": round(secs, 3),
                    "jobs": res, "failed": [r["job"] for r in res if r["status"] != "success"]}
    if "incremental" in out and check_full:
        wide = (parse_iso(periods[0][0]), parse_iso(gen["new_hour_to"]))
        inc_m = [period_metrics(wh, settings, *wide, intervals=False)]
        fsecs, fres = _jobs(wh, md, settings, full=True)
        full_m = [period_metrics(wh, settings, *wide, intervals=False)]
        diffs = _diff(inc_m[0], full_m[0])
        out["incremental"]["full_again_seconds"] = round(fsecs, 3)
        out["incremental"]["incremental_vs_full_mismatches"] = diffs
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


def _settle(wh, limit_s: float = 600.0) -> float:
    """Wait until no merge or mutation runs (3 quiet polls); returns the seconds waited."""
    t0, quiet = time.perf_counter(), 0
    while quiet < 3 and time.perf_counter() - t0 < limit_s:
        busy = wh.scalar("SELECT (SELECT count() FROM system.merges) + "
                         "(SELECT count() FROM system.mutations WHERE NOT is_done)")
        quiet = 0 if busy else quiet + 1
        time.sleep(1.0)
    return round(time.perf_counter() - t0, 1)


def _diff(a: Any, b: Any, path: str = "") -> list[dict[str, Any]]:
    """Leaf differences between two metric dicts (floats within 1e-9)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), f"{path}.{k}" if path else k)
        return out
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else [{"key": path, "a": a, "b": b}]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += _diff(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [{"key": path, "a": a, "b": b}]


def step_edge(d: Path, periods: list[tuple[str, str]]) -> dict[str, Any]:
    """Edge-case file loaded in two parts (the second holds late arrivals), incremental
    jobs after each, metrics; then a full recompute and metrics again."""
    from seamline.config import Settings
    from seamline.load import load_file
    from seamline.metadata import Metadata
    from seamline.metrics import period_metrics
    from seamline.warehouse import Warehouse
    from seamline.warehouse.schema import migrate

    settings = Settings(data_dir=d / "seamline", hash_salt="bench-salt")
    wh = Warehouse.from_settings(settings)
    migrate(wh)
    md = Metadata(settings.metadata_dsn)
    out: dict[str, Any] = {"loads": [], "jobs": []}
    for part in ("edge_part1.jsonl", "edge_part2.jsonl"):
        rep = load_file(wh, d / part, settings.hash_salt, settings.load_batch_rows, progress=False)
        out["loads"].append(rep.as_dict())
        out["jobs"].append(_jobs(wh, md, settings, full=False)[1])
    out["metrics_incremental"] = [period_metrics(wh, settings, parse_iso(a), parse_iso(b), intervals=False)
                                  for a, b in periods]
    out["jobs"].append(_jobs(wh, md, settings, full=True)[1])
    out["metrics"] = [period_metrics(wh, settings, parse_iso(a), parse_iso(b), intervals=False) for a, b in periods]
    out["failed"] = [r["job"] for runs in out["jobs"] for r in runs if r["status"] != "success"]
    return out


def run_edge(args) -> dict[str, Any]:
    """Cross-check on the adversarial edge-case file (benchmarks/edge_cases.py)."""
    import edge_cases
    from pandas_baseline import compare, compute

    d = Path(tempfile.mkdtemp(prefix="seamline-bench-edge-", dir=args.tmp_dir))
    row: dict[str, Any] = {"size": "edge", "errors": []}
    try:
        rows = edge_cases.events()
        edge_cases.write(d / "edge_events.jsonl", rows)
        edge_cases.write(d / "edge_part1.jsonl", rows[0::2])
        edge_cases.write(d / "edge_part2.jsonl", rows[1::2])
        sl = _step([str(Path(__file__).resolve()), "--step", "edge", "--dir", str(d)], d / "edge.json",
                   args.timeout, "edge step", row["errors"])
        if sl is None:
            return row
        row["seamline"] = sl
        mism, inc = [], []
        for (a, b), sm, si in zip(edge_cases.PERIODS, sl["metrics"], sl["metrics_incremental"]):
            pm = compute(d / "edge_events.jsonl", a, b)
            row.setdefault("pandas_metrics", []).append(pm)
            mism += [{"period": f"{a}/{b}"} | m for m in compare(sm, pm)]
            inc += [{"period": f"{a}/{b}"} | m for m in _diff(si, sm)]
        row["mismatches"] = mism
        row["incremental_vs_full_mismatches"] = inc
        row["failed_jobs"] = sl["failed"]
    finally:
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
        else:
            row["dir"] = str(d)
    return row


# ---------------------------------------------------------------------------
# orchestration
# ---------------------------------------------------------------------------
def _sub(args: list[str], timeout: float | None) -> tuple[int, float, str]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, *args], env=clean_env(), capture_output=True, text=True, timeout=timeout)
    return p.returncode, time.perf_counter() - t0, (p.stdout[-3000:] + p.stderr[-6000:])


def _step(args: list[str], out: Path, timeout: float | None, what: str, errors: list[str]) -> dict | None:
    """Run one step in its own process; its JSON (``out``), or None with the failure in ``errors``."""
    rc, _secs, log = _sub([*args, "--json-out", str(out)], timeout)
    if rc != 0:
        errors.append(f"{what} failed (rc={rc}): {log}")
        return None
    return json.loads(out.read_text())


def periods_for(gen: dict[str, Any]) -> list[tuple[str, str]]:
    s, e = parse_iso(gen["start"]), parse_iso(gen["end"])
    return [(iso(s), iso(e)), (iso(s + timedelta(days=30)), iso(s + timedelta(days=60)))]


def run_size(n: int, with_pandas: bool, args) -> dict[str, Any]:
    from pandas_baseline import compare

    label = size_label(n)
    d = Path(tempfile.mkdtemp(prefix=f"seamline-bench-{label}-", dir=args.tmp_dir))
    row: dict[str, Any] = {"size": label, "n": n, "dir": str(d), "errors": []}
    me = str(Path(__file__).resolve())
    try:
        gen = _step([me, "--step", "generate", "--n", str(n), "--dir", str(d), "--seed", str(args.seed)],
                    d / "gen.json", args.timeout, "generate", row["errors"])
        if gen is None:
            return row
        row["generate"] = gen
        periods = periods_for(gen)
        cmd = [me, "--step", "seamline", "--dir", str(d), "--metrics-runs", str(args.metrics_runs), "--query-runs", str(args.query_runs)]
        if with_pandas and not args.no_full_check:
            cmd.append("--check-full")
        sl = _step(cmd, d / "seamline.json", args.timeout, "seamline step", row["errors"])
        if sl is None:
            return row
        row["seamline"] = sl
        if with_pandas:
            pcmd = [str(HERE / "pandas_baseline.py"), str(d / "events.jsonl.gz")]
            for a, b in periods:
                pcmd += ["--period", f"{a},{b}"]
            pd_res = _step(pcmd, d / "pandas.json", args.timeout, "pandas baseline", row["errors"])
            if pd_res is not None:
                row["pandas"] = {k: v for k, v in pd_res.items() if k != "metrics"}
                row["pandas"]["metrics"] = pd_res["metrics"]
                mism = []
                for (a, b), sm, pm in zip(periods, sl["metrics"], pd_res["metrics"]):
                    for m in compare(sm, pm):
                        mism.append({"period": f"{a}/{b}"} | m)
                row["mismatches"] = mism
    finally:
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
            row.pop("dir", None)
    return row


def summary(row: dict[str, Any]) -> dict[str, Any]:
    g, s, p = row.get("generate") or {}, row.get("seamline") or {}, row.get("pandas") or {}
    load, jobs, inc = s.get("load") or {}, s.get("full_jobs") or {}, s.get("incremental") or {}
    out = {
        "size": row["size"],
        "events": g.get("events"),
        "gen_ev_s": g.get("gen_events_per_s"),
        "load_ev_s": load.get("events_per_s"),
        "load_rss_mb": load.get("peak_rss_mb"),
        "peak_rss_mb": s.get("peak_rss_mb_before_incremental"),
        "full_jobs_s": jobs.get("seconds"),
        "scan_s": (s.get("scan") or {}).get("seconds_with_attrs"),
        "jobs_over_scan": s.get("jobs_over_scan"),
        "incr_fixed_events": (s.get("incremental_fixed") or {}).get("events"),
        "incr_fixed_s": (s.get("incremental_fixed") or {}).get("jobs_seconds"),
        "incr_events": inc.get("events"),
        "incr_s": inc.get("jobs_seconds"),
        "settle_s": s.get("merges_settle_seconds"),
        "metrics_p50_ms": (s.get("period_metrics_latency") or {}).get("p50_ms"),
        "metrics_p95_ms": (s.get("period_metrics_latency") or {}).get("p95_ms"),
        "pages_p95_ms_max": s.get("queries_p95_ms_max"),
        "pages_warm_p95_ms_max": s.get("queries_warm_p95_ms_max"),
        "pages_over_150ms": len(s["queries_over_150ms"]) if "queries_over_150ms" in s else None,
        "pandas_s": p.get("seconds"),
        "pandas_rss_mb": p.get("peak_rss_mb"),
        "speedup": None, "mem_ratio": None,
        "mismatches": len(row["mismatches"]) if "mismatches" in row else None,
        "failed_jobs": ((jobs.get("failed") or []) + ((s.get("incremental_fixed") or {}).get("failed") or [])
                        + (inc.get("failed") or [])),
        "incr_vs_full_mismatches": (len(inc["incremental_vs_full_mismatches"])
                                    if "incremental_vs_full_mismatches" in inc else None),
        "errors": len(row.get("errors") or []),
    }
    if p.get("seconds") and load.get("seconds") is not None and jobs.get("seconds") is not None:
        seam = load["seconds"] + jobs["seconds"] + ((s.get("period_metrics_latency") or {}).get("p50_ms") or 0) / 1000
        out["seamline_total_s"] = round(seam, 2)
        out["speedup"] = round(p["seconds"] / seam, 2)
        if p.get("peak_rss_mb") and s.get("peak_rss_mb_before_incremental"):
            out["mem_ratio"] = round(s["peak_rss_mb_before_incremental"] / p["peak_rss_mb"], 2)
    return out


COLUMNS = [("size", "size"), ("events", "events"), ("load_ev_s", "load ev/s"), ("peak_rss_mb", "peak RSS MB"),
           ("full_jobs_s", "full jobs s"), ("scan_s", "scan s"), ("jobs_over_scan", "jobs/scan"),
           ("incr_fixed_s", "incr s (4k ev)"), ("incr_events", "hour ev"), ("incr_s", "incr s (hour)"), ("metrics_p95_ms", "metrics p95 ms"), ("pages_p95_ms_max", "pages cold p95 max ms"),
           ("pages_over_150ms", "pages cold >150"), ("pages_warm_p95_ms_max", "pages warm p95 max ms"),
           ("pandas_s", "pandas s"), ("speedup", "speedup"), ("mem_ratio", "mem ratio"),
           ("mismatches", "mismatches")]


def print_table(rows: list[dict[str, Any]]) -> None:
    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}" if abs(v) < 10 else f"{v:,.1f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    cells = [[fmt(r.get(k)) for k, _ in COLUMNS] for r in rows]
    heads = [h for _, h in COLUMNS]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(heads)]
    print("  ".join(h.rjust(w) for h, w in zip(heads, widths)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths)))


def machine() -> dict[str, Any]:
    import platform

    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        with open("/proc/meminfo") as fh:
            info["mem_total_mb"] = int(fh.readline().split()[1]) // 1024
    except OSError:
        pass
    for mod in ("chdb", "pandas", "numpy", "clickhouse_connect"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:
            pass
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Seamline scale benchmark with a pandas cross-check")
    ap.add_argument("--sizes", default="1M", help="comma list of event counts: 200k,1M,10M,50M")
    ap.add_argument("--pandas-sizes", default="", help="sizes at which the pandas baseline also runs")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--metrics-runs", type=int, default=10)
    ap.add_argument("--query-runs", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the temp directories")
    ap.add_argument("--tmp-dir", default=None, help="where the temp directories go (default: system temp)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per subprocess")
    ap.add_argument("--no-full-check", action="store_true", help="skip incremental == full check at pandas sizes")
    # internal: one step of one size in its own process
    ap.add_argument("--edge-cases", action="store_true",
                    help="also cross-check pandas and Seamline on the adversarial edge-case file")
    ap.add_argument("--step", choices=["generate", "seamline", "edge"], help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    ap.add_argument("--json-out", help=argparse.SUPPRESS)
    ap.add_argument("--check-full", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.step:
        d = Path(a.dir)
        if a.step == "generate":
            res = step_generate(a.n, d, a.seed)
        elif a.step == "edge":
            import edge_cases

            res = step_edge(d, edge_cases.PERIODS)
        else:
            gen = json.loads((d / "gen.json").read_text())
            res = step_seamline(d, gen, a.metrics_runs, a.query_runs, a.check_full, periods_for(gen))
        Path(a.json_out).write_text(json.dumps(res, indent=1, default=str) + "\n")
        return 0

    sizes = [parse_size(s) for s in a.sizes.split(",") if s.strip()]
    psizes = {parse_size(s) for s in a.pandas_sizes.split(",") if s.strip()}
    rows, summaries = [], []
    for n in sizes:
        print(f"[bench] size {size_label(n)} …", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        row = run_size(n, n in psizes, a)
        row["wall_seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        summaries.append(summary(row))
        for e in row.get("errors") or []:
            print(f"[bench] {size_label(n)}: {e}", file=sys.stderr)
        for m in row.get("mismatches") or []:
            print(f"[bench] {size_label(n)} mismatch: {m}", file=sys.stderr)
    # sizes only run with pandas are run too (a pandas size not in --sizes)
    for n in sorted(psizes - set(sizes)):
        print(f"[bench] size {size_label(n)} (pandas size) …", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        row = run_size(n, True, a)
        row["wall_seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        summaries.append(summary(row))
        for m in row.get("mismatches") or []:
            print(f"[bench] {size_label(n)} mismatch: {m}", file=sys.stderr)
    print_table(summaries)
    edge = None
    if a.edge_cases:
        print("[bench] edge cases …", file=sys.stderr, flush=True)
        edge = run_edge(a)
        for e in edge.get("errors") or []:
            print(f"[bench] edge: {e}", file=sys.stderr)
        for m in edge.get("mismatches") or []:
            print(f"[bench] edge mismatch: {m}", file=sys.stderr)
        for m in edge.get("incremental_vs_full_mismatches") or []:
            print(f"[bench] edge incremental != full: {m}", file=sys.stderr)
        print(f"edge cases: {len(edge.get('mismatches') or [])} pandas/Seamline mismatches, "
              f"{len(edge.get('incremental_vs_full_mismatches') or [])} incremental/full mismatches, "
              f"failed jobs: {edge.get('failed_jobs') or []}")
    result = {"created_at": iso(datetime.now(timezone.utc)), "machine": machine(),
              "argv": sys.argv[1:] if argv is None else argv, "summary": summaries, "rows": rows,
              "edge_cases": edge}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(f"[bench] wrote {a.out}", file=sys.stderr)
    if Path(a.out).resolve() == (HERE / "results.json").resolve():
        import table

        table.update()  # benchmarks/README.md's results table follows results.json
    bad = (any(r.get("errors") for r in rows) or any(s["failed_jobs"] for s in summaries)
           or bool(edge and (edge.get("errors") or edge.get("failed_jobs"))))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
