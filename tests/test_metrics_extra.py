"""Period comparison, retention by cohort, predicted effort: wired to real rollups."""

from __future__ import annotations

import math
from datetime import date

from eventkit import expand_all, load_events
from seamline.metrics import compare_periods, previous_period, retention_by_cohort
from seamline.runner import run_jobs
from seamline.stats.intervals import two_proportions


def _transition(cust, day, friction):
    rows = [{"cust": cust, "t": f"2026-03-{day:02d}T10:00:00.000Z", "c": "web"},
            {"cust": cust, "t": f"2026-03-{day:02d}T10:05:00.000Z", "c": "chat", "type": "contact", "topic": "tech"}]
    if friction:
        rows.append({"cust": cust, "t": f"2026-03-{day:02d}T10:06:00.000Z", "c": "chat", "type": "reauth"})
    return rows


def test_compare_periods_against_direct_tests(tmp_path, settings, wh, md):
    # previous [03-01, 03-08): 2 transitions, both frictionless; current [03-08, 03-15): 1 of 2
    rows = _transition("A", 2, False) + _transition("B", 3, False) + _transition("C", 9, True) + _transition("D", 10, False)
    load_events(wh, settings, expand_all(rows), tmp_path / "e.jsonl")
    run_jobs(wh, md, settings)
    assert previous_period(date(2026, 3, 8), date(2026, 3, 15))[0].day == 1
    cmp = compare_periods(wh, settings, date(2026, 3, 8), date(2026, 3, 15))
    c = cmp["continuity_rate"]
    assert c["current"] == 0.5 and c["previous"] == 1.0 and c["change"] == -0.5
    ref = two_proportions(1, 2, 2, 2)
    assert math.isclose(c["p_value"], ref.p_value) and c["significant"] == ref.significant
    assert cmp["ces_mean"]["current"] is None and cmp["ces_mean"]["p_value"] is None
    assert set(cmp) >= {"slo_met_rate", "repeat_contact_rate", "silence_rate", "freshness_p95_s", "incidents"}


def test_retention_by_cohort(tmp_path, settings, wh, md):
    rows = [{"cust": "S", "t": "2026-01-01T00:00:00.000Z"}, {"cust": "T", "t": "2026-01-02T00:00:00.000Z"},
            {"cust": "T", "t": "2026-02-11T00:00:00.000Z", "type": "churn"},
            {"cust": "U", "t": "2026-02-01T00:00:00.000Z"}, {"cust": "U", "t": "2026-04-01T00:00:00.000Z"}]
    load_events(wh, settings, expand_all(rows), tmp_path / "e.jsonl")
    run_jobs(wh, md, settings)
    got = {(r["cohort"], r["segment"]): r for r in retention_by_cohort(wh, settings)}
    jan = got[("2026-01", "seamless")]
    # S censored at 04-01 - 01-31 = 60 d; T churns 10 d after its landmark (02-01)
    assert jan["customers"] == 2 and jan["churned"] == 1 and jan["survival_30"] == 0.5
    assert got[("2026-02", "seamless")]["customers"] == 1


def test_predicted_effort_on_generated_data(tmp_path, settings, wh, md):
    from seamline.effort import FEATURES, predicted_effort
    from seamline.load import load_file
    from seamline.sample import generate

    res = generate(tmp_path / "s.jsonl.gz", customers=400, days=30, seed=3, bad_rows=False)
    load_file(wh, res.path, settings.hash_salt, progress=False)
    run_jobs(wh, md, settings)
    out = predicted_effort(wh, res.start, res.end)
    assert out["available"] and out["respondents"] >= 30 and out["non_respondents"] > 0
    assert 0 < out["cv_mae"] < 1.6
    assert 1 <= out["adjusted_mean"] <= 7
    assert set(out["coefficients"]) == set(FEATURES)
    # the generator lowers CES after friction: friction features must not raise predicted effort
    assert out["coefficients"]["repeat_info"] < 0.1 and out["coefficients"]["transfers"] < 0.1
    assert sum(b["n"] for b in out["calibration"]) == out["respondents"]
    empty = predicted_effort(wh, date(2020, 1, 1), date(2020, 2, 1))
    assert empty["available"] is False and empty["adjusted_mean"] is None
