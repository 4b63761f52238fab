#!/usr/bin/env python
"""Regenerate the README screenshots into docs/screenshots/.

Loads sample_data/events.jsonl.gz into a temporary data dir, runs the jobs,
starts the dashboard on a free loopback port (no scheduler) and visits every
page in headless Chromium (/usr/bin/chromium).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = {"overview": "/", "journeys": "/journeys", "freshness": "/freshness", "effort": "/effort",
         "retention": "/retention", "incidents": "/incidents?period=90d", "alerts": "/alerts"}
# The alerts page shows the sample's crm regression as the rules saw it the
# day after its onset (evaluated hour by hour, as the scheduler would).
ALERTS = [{"name": "latency", "kind": "regression"},
          {"name": "freshness-burn", "kind": "burn_rate", "objective": 0.99}]
TARGETS = {"crm": 600, "marketing": 1800, "support": 1800, "survey": 86400}
ALERTS_FROM, ALERTS_HOURS = "2026-10-07T12:00:00+00:00", 24
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def build(data_dir: Path, sample: Path) -> None:
    from seamline.config import Settings
    from seamline.load import load_paths
    from seamline.metadata import Metadata
    from seamline.runner import run_jobs
    from seamline.warehouse import Warehouse
    from seamline.warehouse.schema import migrate

    from datetime import datetime, timedelta

    from seamline.alerts.engine import evaluate

    settings = _settings(data_dir)
    wh = Warehouse.from_settings(settings)
    migrate(wh)
    md = Metadata(settings.metadata_dsn)
    load_paths(wh, [sample], settings.hash_salt)
    run_jobs(wh, md, settings)
    start = datetime.fromisoformat(ALERTS_FROM)
    for h in range(ALERTS_HOURS + 1):
        evaluate(wh, md, settings, start + timedelta(hours=h))


def _settings(data_dir: Path):
    from seamline.config import Settings

    return Settings(data_dir=data_dir, alerts=ALERTS, freshness_targets=TARGETS)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    ap.add_argument("--sample", default=str(REPO / "sample_data" / "events.jsonl.gz"))
    ap.add_argument("--data-dir", help="use this (already loaded) data dir instead of a temporary one")
    args = ap.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from seamline.serve import make_server

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = None
    if args.data_dir:
        data_dir = Path(args.data_dir)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="seamline-shots-")
        data_dir = Path(tmp.name)
        build(data_dir, Path(args.sample))
    server = make_server(_settings(data_dir), "127.0.0.1", 0, scheduler=False)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for name, path in PAGES.items():
                page.goto(server.url + path)
                page.wait_for_selector(".card" if name == "alerts" else ".js-plotly-plot .main-svg", timeout=30_000)
                page.wait_for_load_state("networkidle")
                if name == "incidents":
                    # the biggest group (the burst), then its first incident: the customer's timeline
                    page.locator("#incident-groups input[type=radio]").first.check()
                    page.wait_for_url("**from=*", timeout=30_000)
                    page.wait_for_function("() => document.querySelectorAll('#incident-groups tr').length <= 4",
                                           timeout=30_000)
                    page.wait_for_load_state("networkidle")
                    page.locator("#incident-table input[type=radio]").first.check()
                    page.wait_for_selector("#review-save", timeout=30_000)
                    page.wait_for_load_state("networkidle")
                target = out / f"{name}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target)
            browser.close()
    finally:
        server.close()
        thread.join(timeout=10)
        from seamline.warehouse import close_all

        close_all()
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
