"""The retention page (and the overview's retention tile): Kaplan–Meier
survival after the landmark per segment, the curves for drawing, and the
monthly cohorts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seamline.queries import Ctx, _frame, dataset, memo
from seamline.urlstate import State

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def _cohort_in_period(state: State) -> bool:
    return state.extra.get("cohort") == "period"


@memo
def retention(ctx: Ctx, state: State, cohort_in_period: bool = False) -> dict[str, Any]:
    """Survival at the landmark days and the log-rank p from
    ``seamline.kpis.retention.retention`` (the one computation of these numbers), for
    every cohort or those whose first event is in the period, in the view's
    channels."""
    from seamline.kpis.retention import retention as landmark_retention

    start, end = (state.start, state.end) if cohort_in_period else (None, None)
    return landmark_retention(ctx.wh, ctx.settings, start, end, state.channels)


@memo
def retention_groups(ctx: Ctx, state: State, cohort_in_period: bool = False) -> "pd.DataFrame":
    """(segment, duration_days rounded up to 0.1 day, churned, n): the curves'
    points without raw rows. For drawing only: the numbers at the landmark days
    come from ``retention``."""
    from seamline.kpis import sql
    from seamline.kpis.retention import cohort_params, end_of_data

    eod = end_of_data(ctx.wh)
    cols = ["segment", "duration_days", "churned", "n"]
    if eod is None:
        import pandas as pd

        return pd.DataFrame(columns=cols)
    start, end = (state.start, state.end) if cohort_in_period else (None, None)
    return _frame(ctx.wh, sql("retention", "curve"), cohort_params(eod, start, end, state.channels), cols)


@dataset("retention.curves")
def retention_curve_points(ctx: Ctx, state: State) -> "pd.DataFrame":
    """The Kaplan–Meier curve per segment, for drawing (from ``retention_groups``)."""
    import numpy as np
    import pandas as pd

    from seamline.stats.survival import kaplan_meier

    groups = retention_groups(ctx, state, _cohort_in_period(state))
    rows = []
    for seg in ("seamless", "frictioned"):
        part = groups[groups["segment"] == seg]
        if part.empty:
            continue
        counts = part["n"].to_numpy(int)
        c = kaplan_meier(np.repeat(np.maximum(part["duration_days"].to_numpy(float), 0.0), counts),
                         np.repeat(part["churned"].to_numpy(bool), counts))
        rows.append({"segment": seg, "days": 0.0, "survival": 1.0, "low": 1.0, "high": 1.0, "at_risk": c.n})
        for t, s, lo, hi in zip(c.times, c.survival, c.low, c.high):
            rows.append({"segment": seg, "days": t, "survival": s, "low": lo, "high": hi, "at_risk": None})
    return pd.DataFrame(rows, columns=["segment", "days", "survival", "low", "high", "at_risk"])


@dataset("retention.summary")
def retention_summary(ctx: Ctx, state: State) -> "pd.DataFrame":
    """Per segment: customers, churned, survival at the landmark days with its
    interval, and the log-rank p (all from ``retention``)."""
    import pandas as pd

    from seamline.kpis.retention import LANDMARKS

    r = retention(ctx, state, _cohort_in_period(state))
    rows = []
    for seg in ("seamless", "frictioned"):
        entry = r["segments"][seg]
        row: dict[str, Any] = {"segment": seg, "customers": entry["customers"], "churned": entry["churned"]}
        for day in LANDMARKS:
            lo, hi = entry[f"survival_{day}_ci"] or (None, None)
            row[f"survival_{day}"], row[f"survival_{day}_low"], row[f"survival_{day}_high"] = (
                entry[f"survival_{day}"], lo, hi)
        row["followup_days"] = entry.get("followup_days")  # the longest follow-up: later survival is carried
        row["logrank_p"] = r["logrank_p"]
        rows.append(row)
    df = pd.DataFrame(rows)
    return df if df["customers"].sum() > 0 else df.iloc[0:0]


@dataset("retention.compare")
def retention_compare(ctx: Ctx, state: State) -> "pd.DataFrame":
    """Survival of the period's cohort vs the previous period's, per segment and day."""
    from seamline import views

    return views.survival_change(retention_summary(ctx, state), retention_summary(ctx, state.previous()))


@dataset("retention.cohorts")
def retention_cohorts(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline.kpis import sql
    from seamline.kpis.retention import end_of_data

    eod = end_of_data(ctx.wh)
    cols = ["cohort", "customers", "reached_landmark", "frictioned", "frictioned_share", "churned_after_landmark",
            "churn_rate"]
    if eod is None:
        import pandas as pd

        return pd.DataFrame(columns=cols)
    df = _frame(ctx.wh, sql("retention", "by_cohort_month"), state.params() | {"eod": eod},
                ["cohort", "customers", "reached_landmark", "frictioned", "churned_after_landmark"])
    df["frictioned_share"] = df["frictioned"] / df["reached_landmark"].where(df["reached_landmark"] > 0)
    df["churn_rate"] = df["churned_after_landmark"] / df["reached_landmark"].where(df["reached_landmark"] > 0)
    return df[cols]
