"""`seamline demo`: sample data -> load -> jobs -> dashboard, in one command.

Re-running is cheap and safe: the generated sample file is reused, the load is
idempotent (0 new rows), jobs run incrementally, annotations are not doubled.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

# The demo's data is generated on first use, ending at today's midnight (UTC):
# 150 days let customers whose first event is in the first month be followed
# 90 days past their 30-day landmark, and every event is in the past (events
# dated after the load are not events, SPEC §1).
DEMO_CUSTOMERS = 3000
DEMO_DAYS = 150


def demo_sample(data_dir: Path, customers: int = DEMO_CUSTOMERS, days: int = DEMO_DAYS) -> Path:
    return data_dir / "sample" / f"demo-{customers}c-{days}d.jsonl.gz"


def planted_path(sample: Path) -> Path:
    return sample.with_name(sample.name.removesuffix(".gz").removesuffix(".jsonl") + ".planted.json")


def planted_summary(sample: Path) -> list[str]:
    """Where to look: the phenomena the generator planted in the sample."""
    if not planted_path(sample).is_file():
        return []
    facts = json.loads(planted_path(sample).read_text("utf-8"))
    lines = []
    reg = facts.get("latency_regression") or {}
    if reg:
        lines.append(f"a {reg['source']} latency regression from {reg['onset'][:16]} to {reg['recovered_at'][:16]} "
                     f"(p95 ×{reg['ratio']:.1f}): /freshness?period=90d&source={reg['source']}")
    hot = facts.get("friction_hotspot") or {}
    if hot:
        lines.append(f"a {hot['from']} → {hot['to']} friction hotspot ({hot['frictionless_share']:.0%} frictionless): "
                     f"/journeys?period=90d&channel={hot['from']},{hot['to']}")
    burst = facts.get("conflicting_messages") or {}
    if burst:
        day = burst["day"]  # the burst's day, whatever the default period shows
        lines.append(f"a burst of conflicting messages on {day} (campaign {burst['campaign']}): "
                     f"/incidents?period=custom&from={day}&to={day}")
    return lines


def add_planted_annotations(md, sample: Path) -> int:
    planted = planted_path(sample)
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


def run_demo(ctx, serve_after: bool = True, host: str = "127.0.0.1", port: int = 8050,
             customers: int = DEMO_CUSTOMERS, days: int = DEMO_DAYS) -> int:
    from seamline.load import load_file
    from seamline.runner import run_jobs

    settings = ctx.settings
    sample = demo_sample(settings.data_path, customers, days)
    if not sample.is_file():
        from datetime import timedelta, timezone

        from seamline.sample import generate

        today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        sample.parent.mkdir(parents=True, exist_ok=True)
        print(f"[1/4] generating {days} days of sample data for {customers:,} customers into {sample} …", flush=True)
        generate(sample, customers=customers, days=days, seed=7, start=today - timedelta(days=days))
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
    planted = planted_summary(sample)
    if planted:
        print("      planted in the sample: " + "; ".join(planted), flush=True)
    if not serve_after:
        print("[4/4] done (no dashboard: --no-serve)")
        return 1 if failed else 0
    from seamline.serve import serve

    print(f"[4/4] dashboard on http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    serve(settings, host=host, port=port, scheduler=True)
    return 0
