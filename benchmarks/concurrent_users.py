#!/usr/bin/env python
"""Many users at once: N concurrent clients on loopback render the served
views of a running dashboard (or of one this script starts on a data dir).

A *view* is what a browser asks for when it opens a page: the page's render
callback (``_pages_content.children`` for a path and query), the request that
carries every figure and table of the page.  Each client walks the six pages
in its own order, over the default period and two presets, ``--views`` times;
the run is bounded (users × views requests).

    .venv/bin/python benchmarks/concurrent_users.py --data-dir .seamline --users 50 --views 20
    .venv/bin/python benchmarks/concurrent_users.py --url http://127.0.0.1:8050 --users 50

Prints p50 / p95 / p99 latency, requests per second and errors, and writes
them with the machine to --out (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

PAGES = ["/", "/journeys", "/freshness", "/effort", "/retention", "/incidents"]
QUERIES = ["", "?period=7d", "?period=90d"]


def render_payload(path: str, search: str) -> bytes:
    return json.dumps({
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"], "state": []}).encode()


def one_view(base: str, path: str, search: str, timeout: float) -> tuple[float, int, bool]:
    """Seconds, HTTP status, and whether the page rendered without an error card."""
    req = urllib.request.Request(base + "/_dash-update-component", data=render_payload(path, search),
                                 headers={"Content-Type": "application/json"}, method="POST")
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    except OSError:
        return time.perf_counter() - t0, 0, False
    seconds = time.perf_counter() - t0
    clean = status == 200 and b"card-failed" not in body and b"Traceback" not in body
    return seconds, status, clean


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def run(base: str, users: int, views: int, timeout: float, seed: int = 1) -> dict:
    # one warm pass first, as a served dashboard has rendered its views before
    for path in PAGES:
        for search in QUERIES:
            one_view(base, path, search, timeout)
    lock = threading.Lock()
    results: list[tuple[float, int, bool]] = []

    def client(i: int) -> None:
        rnd = random.Random(seed * 1000 + i)
        plan = [(p, q) for p in PAGES for q in QUERIES]
        rnd.shuffle(plan)
        for k in range(views):
            r = one_view(base, *plan[k % len(plan)], timeout)
            with lock:
                results.append(r)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(users) as pool:
        list(pool.map(client, range(users)))
    wall = time.perf_counter() - t0
    lat = [r[0] for r in results]
    errors = sum(1 for r in results if not r[2])
    return {"users": users, "requests": len(results), "errors": errors, "wall_s": round(wall, 2),
            "requests_per_s": round(len(results) / wall, 1), "p50_s": round(pct(lat, 50), 3),
            "p95_s": round(pct(lat, 95), 3), "p99_s": round(pct(lat, 99), 3),
            "mean_s": round(statistics.fmean(lat), 3), "max_s": round(max(lat), 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a running dashboard")
    ap.add_argument("--data-dir", help="start a dashboard (no scheduler) on this data dir instead")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--views", type=int, default=20, help="views per user")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=8, help="server threads (with --data-dir)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "concurrent_users.json"))
    a = ap.parse_args(argv)
    server = None
    if a.data_dir:
        os.environ["SEAMLINE_DATA_DIR"] = str(Path(a.data_dir).resolve())
        from seamline.config import Settings
        from seamline.serve import DashboardServer

        server = DashboardServer(Settings(), port=0, scheduler=False, threads=a.threads, cli_api=False)
        threading.Thread(target=server.run, daemon=True).start()
        base = server.url.rstrip("/")
    elif a.url:
        base = a.url.rstrip("/")
    else:
        ap.error("give --url or --data-dir")
    try:
        result = run(base, a.users, a.views, a.timeout)
    finally:
        if server is not None:
            server.close()
    result |= {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
               "server_threads": a.threads if a.data_dir else None}
    Path(a.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"{result['users']} users, {result['requests']} views: p50 {result['p50_s']} s, p95 {result['p95_s']} s, "
          f"p99 {result['p99_s']} s, {result['requests_per_s']} views/s, {result['errors']} errors", file=sys.stderr)
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
