"""Freshness (SPEC §3): how long events take to reach the warehouse, and the
share of source-hours whose p95 lag met the source's target."""

from __future__ import annotations

from typing import Any

from seamline.kpis import Family, Kpi, Period, frame, rate, sql
from seamline.jobdef import Job

# Up to this many events in a period, its quantiles are exact (from the
# stored lags); above it they come from merged DDSketch states (0.5 %).
EXACT_QUANTILE_MAX_EVENTS = 2_000_000


def target_params(settings) -> dict[str, Any]:
    """The per-source targets as bound parameters ({t_sources}, {t_values}, {t_default})."""
    return {"t_sources": list(settings.freshness_targets.keys()),
            "t_values": [float(v) for v in settings.freshness_targets.values()],
            "t_default": float(settings.freshness_target_s)}


def period(wh, settings, p: Period) -> dict[str, Any]:
    params = p.params() | p.full_days()
    events, skewed = wh.rows(sql("freshness", "totals"), params)[0]
    events, skewed = int(events or 0), int(skewed or 0)
    out: dict[str, Any] = {"p50_s": None, "p95_s": None, "p99_s": None, "events": events, "skewed": skewed,
                           "slo_met_rate": None, "source_hours": 0, "source_hours_met": 0, "exact": True}
    if events:
        out["exact"] = events <= EXACT_QUANTILE_MAX_EVENTS
        q = wh.scalar(sql("freshness", "quantiles_exact" if out["exact"] else "quantiles_sketch"), params)
        out["p50_s"], out["p95_s"], out["p99_s"] = (round(float(x), 3) for x in q)
    met, total = wh.rows(sql("freshness", "slo"), p.params() | target_params(settings))[0]
    out["source_hours"], out["source_hours_met"] = int(total or 0), int(met or 0)
    out["slo_met_rate"] = rate(met, total)
    return out


def daily(wh, settings, p: Period):
    lags = frame(wh, sql("freshness", "daily"), p.params() | p.full_days(), ["day", "events", "freshness_p95_s"])
    slo = frame(wh, sql("freshness", "daily_slo"), p.params() | target_params(settings), ["day", "slo_met_rate"])
    return lags.merge(slo, on="day", how="outer")


def _lag(q: str, label: str, tile: bool = False) -> Kpi:
    share = {"p50": "Half", "p95": "95 %", "p99": "99 %"}[q]
    return Kpi(f"freshness.{q}_s", f"freshness_{q}_s", label, "seconds", False, volume="events", tile=tile,
               daily=tile, default_target=(lambda s: s.freshness_target_s) if q == "p95" else None,
               definition=f"{share} of the period's events reached the warehouse within this time "
                          "(lag = ingested_at − occurred_at)")


FAMILY = Family(
    name="freshness",
    kpis=(
        _lag("p95", "Freshness p95", tile=True),
        Kpi("freshness.slo_met_rate", "slo_met_rate", "Freshness SLO met", "pct", True, 0.95,
            counts=("source_hours_met", "source_hours"), tile=True, daily=True,
            definition="Share of source-hours whose p95 lag met the source's target "
                       "({s.freshness_target_s:g} s unless set per source)"),
        _lag("p50", "Freshness p50"),
        _lag("p99", "Freshness p99"),
    ),
    period=period,
    daily=daily,
    daily_volume="events",
    costly=True,
)


# The job writing the family's rollups: its SQL is jobs/freshness*.sql.
JOB = Job(
    name="freshness",
    description="lag quantiles per source x channel x hour (and day) and per source-hour (SLO)",
    schedule="*/5 * * * *",
    scope="hour",
    inputs=("events",),
    outputs=("freshness_hourly", "freshness_source_hourly"),
    extra_outputs=("freshness_daily", "freshness_daily_total"),
    keyed_by=(("freshness_daily", "day"), ("freshness_daily_total", "day")),  # an increment rewrites its days
    # a full run: a pass per share of the months of events (seamline.scopes.HourCut)
    split_by=("events", "occurred_at"),
    statements=lambda s: [("freshness", {}), ("freshness_daily", {})],
)
