"""The rule kinds other than burn_rate, each on hand-built events in chDB:
regression (a planted step, replayed hour by hour), kpi (a trailing window
and min_volume), incidents (counted once ingested), stale (a job, a source)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from eventkit import expand_all, load_events
from test_alerts import Hook, alert_settings, burn_events, iso, run, states, ts

HOOK = "http://127.0.0.1:9/unused"


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


def _receivers(url: str) -> list[dict]:
    return [{"name": "oncall", "kind": "webhook", "url": url}]


# Regression ---------------------------------------------------------------------
# crm: 20 events an hour for 6 days from 2026-03-01, lags uniform in [50, 150] s,
# four times that from 2026-03-03T12:00 (the onset) to 2026-03-05T00:00 (the
# recovery); web: the same without the step.
ONSET, RECOVERY = ts("2026-03-03T12:00:00Z"), ts("2026-03-05T00:00:00Z")


def regression_events():
    rnd = random.Random(11)
    base = ts("2026-03-01T00:00:00Z")
    rows = []
    for src in ("crm", "web"):
        for h in range(6 * 24):
            for k in range(20):
                t = base + timedelta(hours=h, minutes=3 * k, seconds=rnd.randint(0, 59))
                lag = rnd.uniform(50, 150) * (4 if src == "crm" and ONSET <= t < RECOVERY else 1)
                rows.append({"t": iso(t), "ing": iso(t + timedelta(seconds=lag)), "src": src, "cust": f"c{k}"})
    return expand_all(rows)


def test_regression_fires_once_near_onset_and_resolves_after_recovery(wh, md, settings, tmp_path, hook):
    from seamline.alerts import state

    load_events(wh, settings, regression_events(), tmp_path / "reg.jsonl")
    s = alert_settings(settings, [{"name": "latency", "kind": "regression", "receivers": ["oncall"],
                                   "repeat": "30d"}],
                       _receivers(hook.url))
    first_firing = None
    at = ONSET - timedelta(hours=2)
    while at <= RECOVERY + timedelta(hours=24):
        run(wh, md, s, iso(at))
        now = states(md)
        if first_firing is None and now.get(("latency", "crm")) == "firing":
            first_firing = at
        assert ("latency", "web") not in now  # the stationary source never alerts
        at += timedelta(hours=2)
    # the detector needs 6 hours after the onset (its min_hours); evaluated every 2 hours
    assert first_firing == ONSET + timedelta(hours=6), first_firing
    assert states(md) == {("latency", "crm"): "resolved"}
    assert [b["status"] for b in hook.bodies] == ["firing", "resolved"]  # one alert, one resolution
    fired = hook.bodies[0]["alerts"][0]["labels"]
    assert fired["source"] == "crm" and abs(ts(fired["onset"]) - ONSET) <= timedelta(hours=2)
    assert float(fired["ratio"]) > 3 and float(fired["p_value"]) < 0.01
    (inst,) = state.instances(md)
    assert RECOVERY < inst["resolved_at"] <= RECOVERY + timedelta(hours=24)


# kpi ------------------------------------------------------------------------------
# burn_events: 10:00..12:59 one crm and one web event a minute (lag 10 s), 50
# crm events at 11:55..11:59 (lag 120 s).  As of 12:10 (delay 5 min -> the
# whole hour [11:00, 12:00)): 120 events at 10 s + 50 at 120 s = 170 events,
# p95 (exact, inclusive) at position 0.95 * 169 = 160.55 -> 120 s.  As of
# 11:10: [10:00, 11:00) 120 events at 10 s -> 10 s.
KPI = {"name": "slow", "kind": "kpi", "kpi": "freshness.p95_s", "above": 100, "window": "1h",
       "receivers": ["oncall"]}


@pytest.fixture
def freshness_rollups(wh, md, settings, tmp_path):
    from seamline.runner import run_jobs

    load_events(wh, settings, burn_events(), tmp_path / "burn.jsonl")
    assert [r.status for r in run_jobs(wh, md, settings, ["freshness"])] == ["success"]
    return settings


def test_kpi_over_a_trailing_window(wh, md, freshness_rollups, hook):
    from seamline.alerts import state

    s = alert_settings(freshness_rollups, [KPI], _receivers(hook.url))
    run(wh, md, s, "2026-03-01T11:10:00Z")
    assert state.instances(md) == []
    run(wh, md, s, "2026-03-01T12:10:00Z")
    (inst,) = state.instances(md)
    assert inst["state"] == "firing" and inst["value"] == 120.0 and inst["labels"]["kpi"] == "freshness.p95_s"
    assert hook.bodies[0]["alerts"][0]["annotations"]["summary"] == "Freshness p95 120 is above 100 over 1h"
    run(wh, md, s, "2026-03-01T14:10:00Z")  # [13:00, 14:00) has no events: no value, nothing to judge
    assert state.instances(md)[0]["state"] == "resolved"


def test_kpi_needs_min_volume(wh, md, freshness_rollups):
    from seamline.alerts import state

    s = alert_settings(freshness_rollups, [KPI | {"min_volume": 171}], _receivers(HOOK))
    run(wh, md, s, "2026-03-01T12:10:00Z")
    assert state.instances(md) == []  # 170 events < 171
    s = alert_settings(freshness_rollups, [KPI | {"name": "slow2", "min_volume": 170}], _receivers(HOOK))
    run(wh, md, s, "2026-03-01T12:10:00Z")
    assert [i["state"] for i in state.instances(md)] == ["firing"]


# incidents ----------------------------------------------------------------------
def test_incidents_are_counted_once_ingested(wh, md, settings, tmp_path, hook):
    from seamline.runner import run_jobs

    rows = [
        {"t": "2026-03-01T10:00:00Z", "cust": "c1", "type": "purchase", "attrs": {"product": "P", "order_id": "o1"}},
        {"t": "2026-03-01T11:00:00Z", "cust": "c1", "type": "message", "c": "email",
         "attrs": {"kind": "promo", "product": "P"}},
        # a second promo, ingested two hours late
        {"t": "2026-03-01T11:30:00Z", "ing": "2026-03-01T13:30:00Z", "cust": "c1", "type": "message", "c": "sms",
         "attrs": {"kind": "promo", "product": "P"}},
    ]
    load_events(wh, settings, expand_all(rows), tmp_path / "inc.jsonl")
    assert all(r.status == "success" for r in run_jobs(wh, md, settings, ["incidents"]))
    s = alert_settings(settings, [{"name": "conflicts", "kind": "incidents", "above": 1, "window": "24h",
                                   "receivers": ["oncall"]}], _receivers(hook.url))
    run(wh, md, s, "2026-03-01T13:00:00Z")  # one incident known (the late message is not in yet)
    assert states(md) == {}
    run(wh, md, s, "2026-03-01T13:40:00Z")  # both
    assert states(md) == {("conflicts", None): "firing"}
    assert hook.bodies[0]["alerts"][0]["annotations"]["summary"] == "2 conflicting-message incidents in the last 1d"
    assert "/incidents?period=custom" in hook.bodies[0]["alerts"][0]["generatorURL"]
    run(wh, md, s, "2026-03-02T12:00:00Z")  # [11:55 on the 1st, 11:55): both promos have left the window
    assert states(md) == {("conflicts", None): "resolved"}


# stale ----------------------------------------------------------------------------
def test_stale_job_after_three_schedules(wh, md, settings, hook):
    from sqlalchemy import insert

    from seamline.metadata import job_runs

    def success(at: str) -> None:
        with md.engine.begin() as cx:
            cx.execute(insert(job_runs).values(job="freshness", started_at=ts(at) - timedelta(seconds=5),
                                               finished_at=ts(at), status="success", full=False))

    success("2026-03-01T10:00:00Z")
    # freshness runs every 5 minutes: stale after 15
    s = alert_settings(settings, [{"name": "jobs", "kind": "stale", "names": ["freshness", "retention"],
                                   "receivers": ["oncall"]}], _receivers(hook.url))
    run(wh, md, s, "2026-03-01T10:15:00Z")
    assert states(md) == {}  # 15 min is not more than 15 min; retention has never run: not judged
    run(wh, md, s, "2026-03-01T10:16:00Z")
    assert {r["labels"]["job"]: r["state"] for r in _instances(md)} == {"freshness": "firing"}
    success("2026-03-01T10:20:00Z")
    run(wh, md, s, "2026-03-01T10:21:00Z")
    assert {r["labels"]["job"]: r["state"] for r in _instances(md)} == {"freshness": "resolved"}
    assert [b["status"] for b in hook.bodies] == ["firing", "resolved"]


def test_stale_source_no_data(wh, md, settings, tmp_path, hook):
    load_events(wh, settings, burn_events(), tmp_path / "burn.jsonl")
    # the last events: occurred 12:59:00, ingested 12:59:10
    s = alert_settings(settings, [{"name": "quiet", "kind": "stale", "of": "sources", "after": "30m",
                                   "receivers": ["oncall"]}], _receivers(hook.url))
    run(wh, md, s, "2026-03-01T13:29:10Z")
    assert states(md) == {}
    run(wh, md, s, "2026-03-01T13:29:11Z")
    assert states(md) == {("quiet", "crm"): "firing", ("quiet", "web"): "firing"}
    (body,) = hook.bodies  # both in one message
    assert sorted(a["labels"]["source"] for a in body["alerts"]) == ["crm", "web"]


def _instances(md):
    from seamline.alerts import state

    return state.instances(md)
