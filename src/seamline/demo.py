"""`seamline demo`: sample data -> load -> jobs -> dashboard, in one command.

Re-running is cheap and safe: the sample file is reused, the load is
idempotent (0 new rows), jobs run incrementally, annotations are not doubled.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

SAMPLE_NAME = "events.jsonl.gz"


def find_sample(data_dir: Path) -> Path | None:
    """The committed sample (checkout) or one generated earlier in the data dir."""
    candidates = [Path.cwd() / "sample_data" / SAMPLE_NAME,
                  Path(__file__).resolve().parents[2] / "sample_data" / SAMPLE_NAME,
                  data_dir / "sample" / SAMPLE_NAME]
    return next((p for p in candidates if p.is_file()), None)


def add_planted_annotations(md, sample: Path) -> int:
    planted = sample.with_name(sample.name.removesuffix(".gz").removesuffix(".jsonl") + ".planted.json")
    if not planted.is_file():
        return 0
    notes = json.loads(planted.read_text("utf-8")).get("annotations", [])
    have = {(a["at"].isoformat(), a["text"]) for a in md.annotations()}
    added = 0
    for n in notes:
        at = datetime.fromisoformat(n["at"].replace("Z", "+00:00"))
        if (at.isoformat(), n["text"]) not in have:
            md.annotate(at, n["text"], n.get("source", ""))
            added += 1
    return added


def run_demo(ctx, serve_after: bool = True, host: str = "127.0.0.1", port: int = 8050) -> int:
    from seamline.load import load_file
    from seamline.runner import run_jobs

    settings = ctx.settings
    sample = find_sample(settings.data_path)
    if sample is None:
        from seamline.sample import generate

        sample = settings.data_path / "sample" / SAMPLE_NAME
        sample.parent.mkdir(parents=True, exist_ok=True)
        print(f"[1/4] generating sample data into {sample} …", flush=True)
        generate(sample, customers=3000, days=60, seed=7)
    else:
        print(f"[1/4] using sample data {sample}", flush=True)
    report = load_file(ctx.wh, sample, settings.hash_salt, settings.load_batch_rows)
    print(f"[2/4] loaded: read {report.read:,}, loaded {report.loaded:,}, duplicates {report.duplicates:,}, "
          f"quarantined {report.quarantined:,} (see: seamline quarantine)", flush=True)
    add_planted_annotations(ctx.md, sample)
    print("[3/4] running jobs …", flush=True)
    failed = 0
    for r in run_jobs(ctx.wh, ctx.md, settings):
        failed += r.status == "failed"
        print(f"      {r.job:<12} {r.status:<8} {r.seconds:6.2f} s" + (f"  {r.error}" if r.error else ""), flush=True)
    if not serve_after:
        print("[4/4] done (no dashboard: --no-serve)")
        return 1 if failed else 0
    from seamline.serve import serve

    print(f"[4/4] dashboard on http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    serve(settings, host=host, port=port, scheduler=True)
    return 0
