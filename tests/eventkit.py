"""Compact hand-built events for tests: short keys, sensible defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

OUTBOUND_TYPES = {"resolution", "transfer", "message"}
_SHORT = {"id": "event_id", "t": "occurred_at", "ing": "ingested_at", "src": "source", "c": "channel",
          "dir": "direction", "cust": "customer_id", "anon": "anonymous_id", "case": "case_id"}


def expand(short: dict[str, Any], n: int) -> dict[str, Any]:
    ev = {_SHORT.get(k, k): v for k, v in short.items()}
    ev.setdefault("event_id", f"e{n:05d}")
    ev.setdefault("type", "page_view")
    ev.setdefault("channel", "web")
    ev.setdefault("source", "web")
    ev.setdefault("direction", "outbound" if ev["type"] in OUTBOUND_TYPES else "inbound")
    ev.setdefault("ingested_at", ev.get("occurred_at"))
    return ev


def expand_all(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [expand(r, i) for i, r in enumerate(rows, start=1)]


def write_jsonl(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def load_events(wh, settings, events: list[dict[str, Any]], path: Path) -> Any:
    from seamline.load import load_file

    write_jsonl(path, events)
    return load_file(wh, path, settings.hash_salt, progress=False)
