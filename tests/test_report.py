"""``seamline metrics`` for people: values in their units, the previous
period, the change and its test, the target, what a number rests on, and why
a number is missing."""

from __future__ import annotations

import re

from eventkit import expand_all, load_events
from seamline.runner import run_jobs


def _transition(cust, day, friction):
    rows = [{"cust": cust, "t": f"2026-03-{day:02d}T10:00:00.000Z", "c": "web"},
            {"cust": cust, "t": f"2026-03-{day:02d}T10:05:00.000Z", "c": "chat", "type": "contact", "topic": "tech"}]
    if friction:
        rows.append({"cust": cust, "t": f"2026-03-{day:02d}T10:06:00.000Z", "c": "chat", "type": "reauth"})
    return rows


def _row(out: str, label: str) -> list[str]:
    line = next(ln for ln in out.splitlines() if ln.startswith(label + "  "))
    return re.split(r"\s{2,}", line.strip())


def test_metrics_text_compares_with_the_previous_period(tmp_path, settings, wh, md, cli):
    # previous [03-01, 03-08): 2 transitions, both frictionless; now [03-08, 03-15): 1 of 2
    rows = _transition("A", 2, False) + _transition("B", 3, False) + _transition("C", 9, True) + _transition("D", 10, False)
    load_events(wh, settings, expand_all(rows), tmp_path / "e.jsonl")
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    code, out, _ = cli("metrics", "--from", "2026-03-08", "--to", "2026-03-15")
    assert code == 0
    assert out.startswith("KPIs for 2026-03-08 to 2026-03-14 (UTC, both days included), "
                          "compared with 2026-03-01 to 2026-03-07")
    # two-proportion z-test of 1/2 vs 2/2: p = 0.25, noise
    assert _row(out, "Continuity") == ["Continuity", "50.0 %", "100.0 %", "−50.0 pp (worse), noise",
                                       "≥ 80.0 % missed", "2 transitions (2 before)"]
    # no survey answers in either period: no number, and the reason
    assert _row(out, "Customer effort (CES)")[:3] == ["Customer effort (CES)", "– (no survey answers)", "–"]
    assert _row(out, "Conflicting-message incidents")[:2] == ["Conflicting-message incidents", "0"]
    assert "sum_sq" not in out and "exact" not in out  # no internal fields


def test_survival_past_the_follow_up_is_marked(tmp_path, settings, wh, md, cli):
    # one customer, first event 2026-01-01, landmark 01-31, last event 02-10: 10 days of follow-up
    rows = [{"cust": "S", "t": "2026-01-01T00:00:00.000Z"}, {"cust": "S", "t": "2026-02-10T00:00:00.000Z"}]
    load_events(wh, settings, expand_all(rows), tmp_path / "e.jsonl")
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    code, out, _ = cli("metrics", "--from", "2026-01-01", "--to", "2026-02-01")
    assert code == 0
    assert _row(out, "Retention at 90 days")[1] == "100.0 %*"
    assert "* Retention at 90 days: as at 10.0 d, the longest follow-up" in out
    assert "followed up to 10.0 d" in out
