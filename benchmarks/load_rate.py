"""Load rate of two checkouts of Seamline on the same file, run in turns.

    python benchmarks/load_rate.py --events 1M --runs 3 --other /path/to/old/checkout

Generates ``--events`` events (the benchmark's generator, 90 days) once,
then loads the file into a fresh embedded warehouse with this checkout and
with ``--other`` in turns (A B A B …, each load in its own process, so that
both see the same machine state), and prints events/s per run and the
median of each.  Used to measure what the crash-safe load (intents, commit by
batch, rollback) costs against the load before it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import EVENTS_PER_CUSTOMER_90D, SEED, parse_size  # noqa: E402

CHILD = """
import json, sys, time
from seamline.load import load_file
from seamline.warehouse import Warehouse
from seamline.warehouse.schema import migrate
wh = Warehouse("chdb://" + sys.argv[1], "seamline")
migrate(wh)
t = time.perf_counter()
rep = load_file(wh, sys.argv[2], "bench-salt", progress=False)
print(json.dumps({"seconds": time.perf_counter() - t, "loaded": rep.loaded, "read": rep.read}))
"""


def load_once(src: Path, path: Path, tmp: Path) -> dict:
    data = Path(tempfile.mkdtemp(dir=tmp))
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, str(data), str(path)], capture_output=True, text=True,
                             env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", default="1M")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--other", required=True, help="another checkout (its src/ is used)")
    ap.add_argument("--tmp-dir", default=None)
    args = ap.parse_args()
    n = parse_size(args.events)
    tmp = Path(tempfile.mkdtemp(dir=args.tmp_dir, prefix="seamline-loadrate-"))
    try:
        from seamline.sample import generate

        path = tmp / "events.jsonl.gz"
        generate(path, customers=max(1, round(n / EVENTS_PER_CUSTOMER_90D)), days=90, seed=SEED, bad_rows=True)
        sources = {"this": HERE.parent / "src", "other": Path(args.other).resolve() / "src"}
        rates: dict[str, list[float]] = {k: [] for k in sources}
        for i in range(args.runs):
            for name, src in sources.items():
                r = load_once(src, path, tmp)
                rates[name].append(r["read"] / r["seconds"])
                print(f"run {i + 1} {name:<5} {r['read']:,} rows in {r['seconds']:.2f} s = "
                      f"{rates[name][-1] / 1000:.0f} k rows/s", flush=True)
        for name, values in rates.items():
            print(f"{name:<5} median {statistics.median(values) / 1000:.0f} k rows/s "
                  f"(runs: {', '.join(f'{v / 1000:.0f} k' for v in values)})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
