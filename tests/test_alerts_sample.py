"""The sample's planted crm regression, replayed with ``--at`` (issue 23):
one regression alert a few hours after its onset, resolved after its
recovery, none on the stationary sources, as Alertmanager messages to a real
webhook on loopback."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from test_alerts import Hook, alert_settings, iso, run, ts

ROOT = Path(__file__).resolve().parents[1]
PLANTED = json.loads((ROOT / "sample_data" / "events.planted.json").read_text("utf-8"))["latency_regression"]


def _times():
    """Every 12 hours over the sample's 60 days, hourly for 8 hours from the
    onset and from the recovery."""
    onset, recovered = ts(PLANTED["onset"]), ts(PLANTED["recovered_at"])
    start, end = ts("2026-09-01T12:00:00Z"), ts("2026-10-31T00:00:00Z")
    times = {start + timedelta(hours=12 * i) for i in range(int((end - start) / timedelta(hours=12)) + 1)}
    times |= {onset + timedelta(hours=h) for h in range(9)} | {recovered + timedelta(hours=h) for h in range(9)}
    return sorted(times)


def test_sample_regression_replayed(wh, md, settings):
    from seamline.alerts import state
    from seamline.load import load_file

    load_file(wh, ROOT / "sample_data" / "events.jsonl.gz", settings.hash_salt, progress=False)
    hook = Hook()
    try:
        s = alert_settings(settings, [{"name": "latency", "kind": "regression", "receivers": ["oncall"],
                                       "repeat": "30d"}],
                           [{"name": "oncall", "kind": "webhook", "url": hook.url}])
        onset, recovered = ts(PLANTED["onset"]), ts(PLANTED["recovered_at"])
        fired_at = None
        for at in _times():
            run(wh, md, s, iso(at))
            if fired_at is None and hook.bodies:
                fired_at = at
        assert [b["status"] for b in hook.bodies] == ["firing", "resolved"]
        assert onset < fired_at <= onset + timedelta(hours=4), fired_at  # 17:00, three hours after the onset
        (alert,) = hook.bodies[0]["alerts"]
        assert alert["labels"]["alertname"] == "latency" and alert["labels"]["source"] == "crm"
        (inst,) = state.instances(md)  # no other source ever had an instance
        assert inst["labels"]["source"] == "crm" and inst["state"] == "resolved"
        assert recovered < inst["resolved_at"] <= recovered + timedelta(hours=8), inst["resolved_at"]
        assert abs(ts(inst["labels"]["onset"]) - onset) <= timedelta(hours=2)
        assert hook.bodies[1]["alerts"][0]["fingerprint"] == alert["fingerprint"]
    finally:
        hook.close()
