"""The overview's operations cards: alerts firing and pending, and the
sources in place, read from the real alert state and sync state."""

from __future__ import annotations

from datetime import datetime, timezone

from eventkit import load_events
from seamline import views
from seamline.queries import Ctx, alert_table, source_table
from test_alerts import BURN, Hook, alert_settings, burn_events


def test_alert_rows_put_firing_first_and_leave_resolved_out():
    at = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    rows = views.alert_rows([
        {"state": "resolved", "rule": "a", "labels": {}, "annotations": {}},
        {"state": "pending", "rule": "b", "labels": {"alertname": "b", "source": "web"}, "active_since": at,
         "annotations": {"summary": "web burning"}},
        {"state": "firing", "rule": "c", "labels": {"severity": "page", "source": "crm", "windows": "1h/5m"},
         "fired_at": at, "active_since": at, "annotations": {"summary": "crm burning"}}])
    assert rows.to_dict("records") == [
        {"state": "firing", "rule": "c", "labels": "source=crm, windows=1h/5m", "since": at, "summary": "crm burning"},
        {"state": "pending", "rule": "b", "labels": "source=web", "since": at, "summary": "web burning"}]


def test_source_rows_show_lag_as_a_duration_and_the_first_error_line():
    rows = views.source_rows([{"name": "posthog", "kind": "posthog", "status": "failed", "last_sync": None,
                               "rows_synced": 12, "lag_s": 372.0, "last_error": "UNKNOWN_TABLE\nmore"}])
    assert rows.to_dict("records") == [{"source": "posthog", "kind": "posthog", "status": "failed", "last sync": None,
                                        "rows synced": 12, "behind the source": "6.2 min", "error": "UNKNOWN_TABLE"}]


def test_the_overview_lists_a_firing_alert_and_an_unconfigured_one_shows_nothing(tmp_path, settings, wh, md):
    from seamline.alerts import run_once

    ctx = Ctx(wh=wh, settings=settings, md=md)
    assert alert_table(ctx, None).empty and source_table(ctx, None).empty  # nothing configured
    hook = Hook()
    try:
        configured = alert_settings(settings, [BURN], [{"name": "oncall", "kind": "webhook", "url": hook.url}],
                                    freshness_target_s=60)
        load_events(wh, configured, burn_events(), tmp_path / "burn.jsonl")
        run_once(wh, md, configured, at=datetime(2026, 3, 1, 12, 2, tzinfo=timezone.utc))
        rows = alert_table(Ctx(wh=wh, settings=configured, md=md), None).to_dict("records")
    finally:
        hook.close()
    assert [(r["state"], r["rule"]) for r in rows] == [("firing", "crm-burn")]
    assert "source=crm" in rows[0]["labels"] and rows[0]["since"] is not None
