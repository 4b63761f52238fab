#!/usr/bin/env python3
"""Hourly increments on the shapes users have (issue 26).

Per history length (``--days``, default 60, 180 and 365) at the same event
count (``--events``): a sample of existing customers (``seamline.sample``,
customers = events / events per customer over that many days), whose last
day is cut at a busy afternoon hour T:

* the history: every event before T, loaded and computed in full;
* ``clustered 1``: the events of [T, T + 1 h), as the generator's sessions
  make them (a customer's events come together), loaded and computed
  incrementally right after the full run;
* ``clustered 2``: the events of [T + 1 h, T + 2 h), the next hour, after
  the first hour's merges (steady state);
* ``spread``: as many events as ``clustered 1``, one per distinct existing
  customer (each customer's first event after T + 2 h, moved into
  [T + 2 h, T + 3 h)).

Each increment is a load and ``run_jobs`` (per-job seconds in the JSON),
timed after the background merges before it finished (as they have long
before an hourly increment in production).  With ``--check-full`` a full
recompute follows, and the period metrics of the incremental and the full
state must be identical (SPEC §4).

Every Seamline step runs in its own process (one chDB engine per process).

    .venv/bin/python benchmarks/increments.py --events 10M --out benchmarks/increments.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (SCAN_SQL, _diff, _jobs, _settle, clean_env, iso, machine, open_warehouse, parse_iso,  # noqa: E402
                 parse_size)

OCC = re.compile(r'"occurred_at": ?"([^"]+)"')
WHO = re.compile(r'"(?:customer_id|anonymous_id)": ?"([^"]+)"')
HOURS = ("clustered 1", "clustered 2", "spread")


def _stamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _shift(line: str, delta: timedelta) -> str:
    """The event with every timestamp moved by ``delta`` (its lag kept)."""
    event = json.loads(line)
    for key in ("occurred_at", "ingested_at", "received_at"):
        if isinstance(event.get(key), str):
            event[key] = _stamp(parse_iso(event[key]) + delta)
    return json.dumps(event) + "\n"


def step_generate(d: Path, events: int, days: int, seed: int) -> dict[str, Any]:
    from seamline.sample import generate

    # the history ends at today's midnight: the loader refuses events from the future
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=days)
    probe = d / "_probe.jsonl"
    res = generate(probe, customers=1000, days=days, seed=seed, start=first, bad_rows=False)
    per_customer = res.events / 1000
    for f in (probe, probe.with_name("_probe.planted.json")):
        f.unlink(missing_ok=True)
    customers = max(10, int(round(events / per_customer)))
    raw = d / "raw.jsonl.gz"
    t0 = time.perf_counter()
    res = generate(raw, customers=customers, days=days, seed=seed, start=first, bad_rows=False)
    gen_s = time.perf_counter() - t0
    t = datetime(res.end.year, res.end.month, res.end.day, tzinfo=timezone.utc) - timedelta(hours=10)  # 14:00
    bounds = [_stamp(t + timedelta(hours=h)) for h in range(4)]
    counts = {"history": 0, **{h: 0 for h in HOURS}}
    outs = {"history": gzip.open(d / "history.jsonl.gz", "wt", encoding="utf-8", compresslevel=3),
            "clustered 1": open(d / "clustered_1.jsonl", "w", encoding="utf-8"),
            "clustered 2": open(d / "clustered_2.jsonl", "w", encoding="utf-8")}
    later: dict[str, str] = {}
    with gzip.open(raw, "rt", encoding="utf-8") as fh:
        for line in fh:
            occ = OCC.search(line).group(1)
            if occ < bounds[0]:
                key = "history"
            elif occ < bounds[1]:
                key = "clustered 1"
            elif occ < bounds[2]:
                key = "clustered 2"
            else:
                who = WHO.search(line)
                if who and who.group(1) not in later:
                    later[who.group(1)] = line
                continue
            outs[key].write(line)
            counts[key] += 1
    for f in outs.values():
        f.close()
    raw.unlink()
    raw.with_name("raw.planted.json").unlink(missing_ok=True)
    # one event per distinct customer, spread evenly over the hour after clustered 2
    picked = sorted(later.values(), key=lambda ln: OCC.search(ln).group(1))[: counts["clustered 1"]]
    start = t + timedelta(hours=2)
    with open(d / "spread.jsonl", "w", encoding="utf-8") as fh:
        for i, line in enumerate(picked):
            at = start + timedelta(seconds=3600 * (i + 0.5) / max(1, len(picked)))
            fh.write(_shift(line, at - parse_iso(OCC.search(line).group(1))))
    counts["spread"] = len(picked)
    return {"days": days, "customers": customers, "events_per_customer": round(per_customer, 1),
            "gen_seconds": round(gen_s, 1), "events": counts, "raw_events": res.events, "start": iso(res.start), "cut": bounds[0],
            "end": bounds[3]}


def _all_loaded(rep, what: str) -> None:
    """The generated events are all valid and new: anything else is a broken benchmark, not a figure."""
    if rep.error or rep.quarantined or rep.duplicates or not rep.loaded:
        raise SystemExit(f"{what}: read {rep.read}, loaded {rep.loaded}, duplicates {rep.duplicates}, "
                         f"quarantined {rep.quarantined}, error {rep.error}")


def step_seamline(d: Path, gen: dict[str, Any], check_full: bool) -> dict[str, Any]:
    from seamline.load import load_file
    from seamline.metrics import period_metrics

    settings, wh, md = open_warehouse(d)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    rep = load_file(wh, d / "history.jsonl.gz", settings.hash_salt, settings.load_batch_rows, progress=False)
    _all_loaded(rep, "history")
    out["load"] = {"seconds": round(time.perf_counter() - t0, 2), "loaded": rep.loaded,
                   "events_per_s": round(rep.read / (time.perf_counter() - t0))}
    secs, res = _jobs(wh, md, settings, full=True)
    out["full"] = {"seconds": round(secs, 2), "jobs": res}
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        wh.rows(SCAN_SQL)
        times.append(time.perf_counter() - t0)
    out["scan_seconds"] = round(sorted(times)[1], 3)
    out["full_over_scan"] = round(secs / out["scan_seconds"], 1)
    out["hours"] = {}
    for hour, name in zip(HOURS, ("clustered_1.jsonl", "clustered_2.jsonl", "spread.jsonl")):
        settle = _settle(wh)
        t0 = time.perf_counter()
        rep = load_file(wh, d / name, settings.hash_salt, settings.load_batch_rows, progress=False)
        load_s = time.perf_counter() - t0
        _all_loaded(rep, hour)
        secs, res = _jobs(wh, md, settings, full=False)
        out["hours"][hour] = {"events": rep.loaded, "settle_seconds": settle, "load_seconds": round(load_s, 2),
                              "jobs_seconds": round(secs, 2),
                              "share_of_full": round(secs / out["full"]["seconds"], 4),
                              "jobs": {r["job"]: r["seconds"] for r in res},
                              "failed": [r["job"] for r in res if r["status"] != "success"]}
    if check_full:
        period = (parse_iso(gen["start"]), parse_iso(gen["end"]))
        inc = period_metrics(wh, settings, *period, intervals=False)
        secs, _ = _jobs(wh, md, settings, full=True)
        out["full_again_seconds"] = round(secs, 2)
        out["incremental_vs_full_mismatches"] = _diff(inc, period_metrics(wh, settings, *period, intervals=False))
    return out


def _sub(args: list[str], out: Path, timeout: float) -> dict[str, Any]:
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args, "--json-out", str(out)],
                       env=clean_env(), capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{args[:2]} failed (rc={p.returncode}): {p.stdout[-2000:]}{p.stderr[-4000:]}")
    return json.loads(out.read_text())


def run_shape(events: int, days: int, args) -> dict[str, Any]:
    d = Path(tempfile.mkdtemp(prefix=f"seamline-incr-{days}d-", dir=args.tmp_dir))
    row: dict[str, Any] = {"days": days}
    try:
        common = ["--dir", str(d)]
        row["generate"] = _sub(["--step", "generate", *common, "--n", str(events), "--days", str(days),
                                "--seed", str(args.seed)], d / "gen.json", args.timeout)
        cmd = ["--step", "seamline", *common] + (["--check-full"] if args.check_full else [])
        row["seamline"] = _sub(cmd, d / "seamline.json", args.timeout)
    except Exception as exc:
        row["error"] = str(exc)
    finally:
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
    return row


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'days':>5} {'events':>10} {'full s':>7} {'/scan':>6}  " + "  ".join(f"{h:>22}" for h in HOURS))
    for row in rows:
        if "error" in row:
            print(f"{row['days']:>5} error: {row['error'][:300]}")
            continue
        g, s = row["generate"], row["seamline"]
        cells = []
        for h in HOURS:
            hr = s["hours"][h]
            cells.append(f"{hr['events']:>6} ev {hr['jobs_seconds']:>5.2f} s {100 * hr['share_of_full']:>4.1f} %")
        print(f"{row['days']:>5} {s['load']['loaded']:>10} {s['full']['seconds']:>7.1f} {s['full_over_scan']:>6.1f}  "
              + "  ".join(f"{c:>22}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", default="10M", help="events per history (e.g. 1M, 10M, 50M)")
    ap.add_argument("--days", default="60,180,365", help="history lengths in days, comma-separated")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--check-full", action="store_true", help="recompute in full and compare the metrics")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--tmp-dir", default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--timeout", type=float, default=7200)
    ap.add_argument("--step", choices=("generate", "seamline"))
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--n", type=int)
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args(argv)
    if args.step == "generate":
        args.json_out.write_text(json.dumps(step_generate(args.dir, args.n, int(args.days), args.seed)))
        return 0
    if args.step == "seamline":
        gen = json.loads((args.dir / "gen.json").read_text())
        args.json_out.write_text(json.dumps(step_seamline(args.dir, gen, args.check_full), default=str))
        return 0
    events = parse_size(args.events)
    rows = []
    for days in (int(x) for x in args.days.split(",")):
        print(f"{days} days, {events:,} events …", flush=True)
        rows.append(run_shape(events, days, args))
        print_table(rows[-1:])
    result = {"created_at": iso(datetime.now(timezone.utc)), "machine": machine(), "argv": sys.argv[1:],
              "events": events, "rows": rows}
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print_table(rows)
    return 1 if any("error" in r or r["seamline"].get("incremental_vs_full_mismatches") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
