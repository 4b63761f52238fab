"""Retention by connection quality (SPEC §3): Kaplan–Meier survival after the
landmark, seamless vs frictioned customers, and the log-rank test."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from seamline.kpis import Family, Kpi, Period, as_utc, sql
from seamline.jobdef import Job

LANDMARKS = (30, 60, 90)  # days after the landmark at which survival is reported
SEGMENTS = ("seamless", "frictioned")


def end_of_data(wh) -> datetime | None:
    """The last event's time (None on an empty warehouse): where follow-up ends."""
    rows = wh.rows(sql("retention", "end_of_data"))
    if not rows or not rows[0][1]:
        return None
    return as_utc(rows[0][0])


def cohort_params(eod: datetime, start=None, end=None, channels=()) -> dict[str, Any]:
    return {"eod": eod, "has_period": int(start is not None), "channels": list(channels),
            "start": as_utc(start) if start is not None else eod, "end": as_utc(end) if end is not None else eod}


def landmark_cohort(wh, start=None, end=None, channels=()):
    """The landmark cohort as arrays ``{"frictioned": bool, "duration_days":
    float, "churned": bool}``, and the end of data (None, with no arrays, on an
    empty warehouse). With ``start`` the cohort is the customers whose first
    event is in [start, end), else every customer; with ``channels`` those
    whose first event came on one of them."""
    import numpy as np

    eod = end_of_data(wh)
    if eod is None:
        return None, None
    # columnar fetch of numbers only: the cohort can hold every customer
    frame = wh.df(sql("retention", "cohort"), cohort_params(eod, start, end, channels))
    if frame.empty:  # no rows comes back with no columns either
        return {"frictioned": np.zeros(0, bool), "duration_days": np.zeros(0), "churned": np.zeros(0, bool)}, eod
    return {"frictioned": frame["frictioned"].to_numpy() != 0,
            "duration_days": frame["duration_days"].to_numpy(float),
            "churned": frame["churned"].to_numpy() != 0}, eod


def _no_survival() -> dict[str, Any]:
    return {"customers": 0, "churned": 0, "followup_days": None} | {
        f"survival_{day}{part}": None for day in LANDMARKS for part in ("", "_ci")}


def retention(wh, settings, start=None, end=None, channels=()) -> dict[str, Any]:
    """Kaplan–Meier survival at the landmark days per segment (exact durations;
    past the longest follow-up, ``followup_days``, the curve is carried
    forward, as lifelines does), with its 95 % interval, and the log-rank p. The one computation of
    these numbers: ``metrics --json``, the overview tile and the retention
    page all read them from here. The cohort is as in ``landmark_cohort``."""
    arrays, _ = landmark_cohort(wh, start, end, channels)
    out: dict[str, Any] = {"landmark_days": settings.windows.landmark_days, "logrank_p": None, "segments": {}}
    if arrays is None:
        return out | {"segments": {seg: _no_survival() for seg in SEGMENTS}}
    frictioned, durations, churned = arrays["frictioned"], arrays["duration_days"], arrays["churned"]
    groups = {}
    for seg, mask in (("seamless", ~frictioned), ("frictioned", frictioned)):
        d, e = durations[mask], churned[mask]
        entry = _no_survival() | {"customers": int(d.size), "churned": int(e.sum())}
        if d.size:
            # the longest follow-up: survival past it is the last value carried forward
            entry["followup_days"] = float(d.max())
            from seamline.stats.survival import kaplan_meier, survival_at

            curve = kaplan_meier(d, e)
            groups[seg] = (d, e)
            for day in LANDMARKS:
                s, lo, hi = survival_at(curve, float(day), extrapolate=True)
                entry[f"survival_{day}"] = None if s is None else float(s)
                entry[f"survival_{day}_ci"] = None if lo is None else [float(lo), float(hi)]
        out["segments"][seg] = entry
    if len(groups) == 2:
        from seamline.stats.survival import logrank

        res = logrank(*groups["seamless"], *groups["frictioned"])
        out["logrank_p"] = None if res.p_value is None else float(res.p_value)
    return out


def period(wh, settings, p: Period) -> dict[str, Any]:
    """The cohort of customers whose first event is in the period."""
    return retention(wh, settings, p.start, p.end)


def _overall(day: int):
    """Survival at ``day`` over both segments, weighted by their customers
    (the overview's figure; None while no segment has a value)."""
    def value(r: Mapping[str, Any]) -> float | None:
        segs = (r.get("segments") or {}).values()
        vals = [(s[f"survival_{day}"], s.get("customers") or 0) for s in segs if s.get(f"survival_{day}") is not None]
        n = sum(w for _, w in vals)
        return None if not vals or not n else sum(v * w for v, w in vals) / n
    return value


def _carried(day: int, segments: tuple[str, ...] = SEGMENTS):
    """The caveat of survival at ``day`` when the data does not reach it: the
    value is the one at the longest follow-up, carried forward."""
    def caveat(r: Mapping[str, Any]) -> str | None:
        segs = [(r.get("segments") or {}).get(seg) or {} for seg in segments]
        follow = [s["followup_days"] for s in segs if s.get("followup_days") is not None
                  and s.get(f"survival_{day}") is not None]
        if not follow or max(follow) >= day:
            return None
        return f"as at {max(follow):.1f} d, the longest follow-up"
    return caveat


FAMILY = Family(
    name="retention",
    kpis=(
        Kpi("retention.survival_90", "retention_90", "Retention at 90 days", "pct", True, 0.90,
            value=_overall(90), volume="segments.*.customers", tile=True, caveat=_carried(90),
            definition="Share of the period's new customers still there 90 days after their "
                       "{w.landmark_days}-day landmark (Kaplan–Meier, both segments weighted by their customers)"),
        *(Kpi(f"retention.segments.{seg}.survival_{day}", f"retention_{seg}_{day}",
              f"Retention at {day} days ({seg})", "pct", True, volume=f"segments.{seg}.customers",
              caveat=_carried(day, (seg,)),
              definition=f"Share of {seg} customers still there {day} days after their "
                         "{w.landmark_days}-day landmark (Kaplan–Meier)")
          for seg in SEGMENTS for day in LANDMARKS),
    ),
    period=period,
    costly=True,
)


# The job writing the family's rollups: its SQL is jobs/retention*.sql.
JOB = Job(
    name="retention",
    description="first event, landmark, churn and first-30-day friction per customer",
    schedule="0 * * * *",
    scope="customer",
    inputs=("timeline", "transitions", "contacts"),
    outputs=("retention_customers",),
    extra_outputs=("data_bounds",),
    split_by=("timeline", "customer"),  # a full run: one range of customers at a time
    statements=lambda s: [("retention", {"landmark_days": int(s.windows.landmark_days)}), ("retention_bounds", {})],
)
