"""Retention limits (SPEC §8) enforced by ClickHouse TTLs, set from the
settings when a command opens the warehouse; a full recompute then covers
the events kept."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from seamline.governance import retention


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_retention_days_drop_old_events_and_quarantine_rows(cli, wh, settings, tmp_path, monkeypatch):
    now = datetime.now(timezone.utc)
    rows = [{"event_id": f"e{d}", "occurred_at": iso(now - timedelta(days=d)), "source": "web", "channel": "web",
             "direction": "inbound", "type": "page_view", "customer_id": f"C{d}"} for d in (1, 5, 40, 400)]
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n")
    assert cli("load", path)[0] == 0
    assert retention.current_days(wh, "events") is None and retention.current_days(wh, "quarantine") == 30
    wh.insert("quarantine", [["old", "old.jsonl", 1, "{old", "invalid JSON", now - timedelta(days=8)]],
              ["load_id", "file", "line", "raw", "reason", "quarantined_at"])
    assert wh.scalar("SELECT count() FROM quarantine") == 2  # a TTL acts when set, then at merges
    monkeypatch.setenv("SEAMLINE_RETENTION_DAYS", "30")
    monkeypatch.setenv("SEAMLINE_QUARANTINE_RETENTION_DAYS", "7")
    assert cli("jobs", "run", "--full")[0] == 0
    assert retention.current_days(wh, "events") == 30 and retention.current_days(wh, "quarantine") == 7
    assert sorted(wh.scalar("SELECT groupArray(event_id) FROM events")) == ["e1", "e5"]
    assert wh.scalar("SELECT groupArray(raw) FROM quarantine") == ["{broken"]  # the old row went, today's stays
    # the full run after the TTL covers the events kept
    assert sorted(wh.scalar("SELECT groupUniqArray(customer) FROM timeline")) == ["C1", "C5"]
    monkeypatch.setenv("SEAMLINE_RETENTION_DAYS", "0")
    assert cli("quarantine")[0] == 0
    assert retention.current_days(wh, "events") is None
