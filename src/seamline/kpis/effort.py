"""Customer effort (SPEC §3): the CES survey answers (1 = very hard, 7 = very
easy), their mean and the share of easy answers."""

from __future__ import annotations

import math
from typing import Any, Mapping

from seamline.kpis import Family, Kpi, Period, frame, rate, sql
from seamline.jobdef import Job


def period(wh, settings, p: Period) -> dict[str, Any]:
    n, mean, easy, total, total_sq = wh.rows(sql("effort", "period"),
                                             p.params() | {"easy": settings.windows.ces_easy_min})[0]
    n = int(n or 0)
    return {"responses": n, "ces_mean": float(mean) if n else None, "ces_easy_rate": rate(easy, n),
            "easy": int(easy or 0), "sum": float(total or 0), "sum_sq": float(total_sq or 0)}


def intervals(out: dict[str, Any]) -> None:
    """The CES mean's t interval from the period's moments."""
    from seamline.stats.intervals import t_interval_from_moments

    m = t_interval_from_moments(out["responses"], out["sum"], out["sum_sq"])
    out["ces_mean_ci"] = None if m.low is None else [m.low, m.high]


def ces_comparison(current: Mapping[str, Any], previous: Mapping[str, Any]):
    """Welch t-test of two periods' CES means from their moments (None when
    either period has fewer than two answers)."""
    from seamline.stats.intervals import compare_means

    def sd(e):
        n = e["responses"]
        return math.sqrt(max(e["sum_sq"] - e["sum"] ** 2 / n, 0.0) / (n - 1))

    if (current.get("responses") or 0) < 2 or (previous.get("responses") or 0) < 2:
        return None
    return compare_means(current["responses"], current["ces_mean"], sd(current),
                         previous["responses"], previous["ces_mean"], sd(previous))


def _mean_p(current: Mapping[str, Any], previous: Mapping[str, Any]) -> float | None:
    test = ces_comparison(current, previous)
    return None if test is None else test.p_value


def daily(wh, settings, p: Period):
    return frame(wh, sql("effort", "daily"), p.params(), ["day", "responses", "ces_mean"])


FAMILY = Family(
    name="effort",
    kpis=(
        Kpi("effort.ces_mean", "ces_mean", "Customer effort (CES)", "score", True, 5.5,
            volume="responses", compare=_mean_p, tile=True, daily=True,
            definition="Mean customer effort score from surveys, 1 (very hard) to 7 (very easy)"),
        Kpi("effort.ces_easy_rate", "ces_easy_rate", "Easy answers (CES)", "pct", True,
            counts=("easy", "responses"),
            definition="Share of survey answers of {w.ces_easy_min} or more (easy)"),
    ),
    period=period,
    intervals=intervals,
    daily=daily,
    daily_volume="responses",
)


# The job writing the family's rollups: its SQL is jobs/effort.sql.
JOB = Job(
    name="effort",
    description="survey answers (CES) with channel, topic and source",
    schedule="*/15 * * * *",
    scope="customer",
    outputs=("surveys",),
    inputs=("timeline",),
    statements=lambda s: [("effort", {})],
)
