"""Period KPIs (SPEC §3, keys of SPEC §5) computed from the rollup tables.

A period is ``[start, end)`` in UTC.  Every value is a number, or None when
there is no data.  Intervals and significance come from ``seamline.stats``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from seamline.config import Settings
from seamline.warehouse import Warehouse, quote_ident

# Up to this many events in a period, freshness quantiles are exact (from
# the stored lags); above it they come from merged DDSketch states (0.5 %).
EXACT_QUANTILE_MAX_EVENTS = 2_000_000


def as_utc(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.combine(value, time(0), tzinfo=timezone.utc)


def _rate(num: float | None, den: float | None) -> float | None:
    return None if not den else float(num or 0) / float(den)


def _period(start: date | datetime, end: date | datetime) -> dict[str, Any]:
    s, e = as_utc(start), as_utc(end)
    return {"start": s, "end": e, "start_day": s.date(), "end_day": e.date()}


def full_days(start, end) -> dict[str, Any]:
    """The whole UTC days inside [start, end) as ``full_from`` <= day < ``full_to``
    (equal when there are none): bound parameters of ``FRESHNESS_ROWS``."""
    s, e = as_utc(start), as_utc(end)
    first = s.date() if s == datetime.combine(s.date(), time(0), s.tzinfo) else s.date() + timedelta(days=1)
    return {"full_from": first, "full_to": max(first, e.date())}


def _freshness_rows(daily: str, columns: str) -> str:
    """The freshness rollup rows of a period ({start}, {end} and ``full_days``):
    its whole days from the daily table ``daily`` (hour = the day's midnight),
    the hours of its partial days from freshness_hourly.  Sums and sketch
    merges over it equal those over freshness_hourly alone.  (``columns`` is
    a constant of this module, never input.)"""
    return (f"(SELECT toDateTime(day, 'UTC') AS hour, {columns} FROM {quote_ident(daily)} "
            " WHERE day >= {full_from:Date} AND day < {full_to:Date} "
            " UNION ALL "
            f" SELECT hour, {columns} FROM freshness_hourly "
            " WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')} "
            "   AND (hour < toDateTime({full_from:Date}, 'UTC') OR hour >= toDateTime({full_to:Date}, 'UTC')))")


# Per source and channel (whole days from freshness_daily).
FRESHNESS_ROWS = _freshness_rows("freshness_daily", "source, channel, events, skewed, sketch")
# Over every source and channel (whole days from freshness_daily_total, one
# sketch per day): only sums and merges over all rows are meaningful.
FRESHNESS_TOTAL_ROWS = _freshness_rows("freshness_daily_total", "events, skewed, sketch")


def freshness(wh: Warehouse, settings: Settings, start, end) -> dict[str, Any]:
    p = _period(start, end) | full_days(start, end)
    events, skewed = wh.rows(f"SELECT sum(events), sum(skewed) FROM {FRESHNESS_TOTAL_ROWS}", p)[0]
    events, skewed = int(events or 0), int(skewed or 0)
    out: dict[str, Any] = {"p50_s": None, "p95_s": None, "p99_s": None, "events": events, "skewed": skewed,
                           "slo_met_rate": None, "source_hours": 0, "source_hours_met": 0, "exact": True}
    if events:
        if events <= EXACT_QUANTILE_MAX_EVENTS:
            q = wh.scalar(
                "SELECT quantilesExactInclusive(0.5, 0.95, 0.99)(lag) FROM freshness_hourly ARRAY JOIN lags AS lag "
                "WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')}", p)
        else:
            out["exact"] = False
            q = wh.scalar(f"SELECT quantilesDDMerge(0.005, 0.5, 0.95, 0.99)(sketch) FROM {FRESHNESS_TOTAL_ROWS}", p)
        out["p50_s"], out["p95_s"], out["p99_s"] = (round(float(x), 3) for x in q)
    met, total = slo_counts(wh, settings, p["start"], p["end"])
    out["source_hours"], out["source_hours_met"] = total, met
    out["slo_met_rate"] = _rate(met, total)
    return out


def target_params(settings: Settings) -> dict[str, Any]:
    return {"t_sources": list(settings.freshness_targets.keys()),
            "t_values": [float(v) for v in settings.freshness_targets.values()],
            "t_default": float(settings.freshness_target_s)}


TARGET_EXPR = ("if(has({t_sources:Array(String)}, source), "
               "arrayElement({t_values:Array(Float64)}, indexOf({t_sources:Array(String)}, source)), "
               "{t_default:Float64})")


def slo_counts(wh: Warehouse, settings: Settings, start: datetime, end: datetime) -> tuple[int, int]:
    met, total = wh.rows(
        f"SELECT countIf(p95 <= {TARGET_EXPR}), count() FROM freshness_source_hourly "
        "WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')}",
        {"start": start, "end": end} | target_params(settings))[0]
    return int(met or 0), int(total or 0)


def continuity(wh: Warehouse, start, end) -> dict[str, Any]:
    p = _period(start, end)
    n, ok = wh.rows(
        "SELECT count(), sum(frictionless) FROM transitions "
        "WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}", p)[0]
    n, ok = int(n or 0), int(ok or 0)
    return {"transitions": n, "frictionless": ok, "rate": _rate(ok, n)}


def silence(wh: Warehouse, start, end) -> dict[str, Any]:
    p = _period(start, end)
    active, no_contact, silent, contacts, repeats = wh.rows(
        "SELECT countIf(inbound > 0), countIf(inbound > 0 AND contacts = 0), "
        "countIf(inbound > 0 AND repeat_contacts = 0 AND repeat_info = 0), sum(contacts), sum(repeat_contacts) "
        "FROM (SELECT customer, sum(inbound) AS inbound, sum(contacts) AS contacts, "
        "      sum(repeat_contacts) AS repeat_contacts, sum(repeat_info) AS repeat_info "
        "      FROM customer_days WHERE day >= {start_day:Date} AND day < {end_day:Date} GROUP BY customer)", p)[0]
    active, contacts, repeats = int(active or 0), int(contacts or 0), int(repeats or 0)
    return {
        "active_customers": active,
        "contacts": contacts,
        "repeat_contacts": repeats,
        "repeat_contact_rate": _rate(repeats, contacts),
        "no_contact_rate": _rate(no_contact, active),
        "silence_rate": _rate(silent, active),
        "contacts_per_100_customers": None if not active else 100.0 * contacts / active,
        "silent_customers": int(silent or 0),
        "no_contact_customers": int(no_contact or 0),
    }


def effort(wh: Warehouse, settings: Settings, start, end) -> dict[str, Any]:
    p = _period(start, end) | {"easy": settings.windows.ces_easy_min}
    n, mean, easy, total, total_sq = wh.rows(
        "SELECT count(), avg(ces), countIf(ces >= {easy:UInt8}), sum(ces), sum(ces * ces) FROM surveys "
        "WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}", p)[0]
    n = int(n or 0)
    return {"responses": n, "ces_mean": float(mean) if n else None, "ces_easy_rate": _rate(easy, n),
            "easy": int(easy or 0), "sum": float(total or 0), "sum_sq": float(total_sq or 0)}


def end_of_data(wh: Warehouse) -> datetime | None:
    rows = wh.rows("SELECT last_at, events FROM data_bounds FINAL")
    if not rows or not rows[0][1]:
        return None
    return as_utc(rows[0][0])


LANDMARKS = (30, 60, 90)  # days after the landmark at which survival is reported (SPEC §3)


def landmark_cohort(wh: Warehouse, start=None, end=None, channels=()):
    """The landmark cohort as arrays ``{"frictioned": bool, "duration_days":
    float, "churned": bool}``, and the end of data (None, with no arrays, on an
    empty warehouse). With ``start`` the cohort is the customers whose first
    event is in [start, end), else every customer; with ``channels`` those
    whose first event came on one of them."""
    import numpy as np

    eod = end_of_data(wh)
    if eod is None:
        return None, None
    p = {"eod": eod, "has_period": int(start is not None), "channels": list(channels),
         "start": as_utc(start) if start is not None else eod, "end": as_utc(end) if end is not None else eod}
    frame = wh.df(  # columnar fetch of numbers only: the cohort can hold every customer
        "SELECT frictioned, "
        "(toUnixTimestamp64Milli(ifNull(churn_after_at, {eod:DateTime64(3, 'UTC')})) "
        " - toUnixTimestamp64Milli(landmark_at)) / 86400000 AS duration_days, "
        "churn_after_at IS NOT NULL AS churned "
        "FROM retention_customers "
        "WHERE landmark_at <= {eod:DateTime64(3, 'UTC')} "
        "  AND (churn_at IS NULL OR churn_at > landmark_at) "
        "  AND ({has_period:UInt8} = 0 OR (first_at >= {start:DateTime64(3, 'UTC')} AND first_at < {end:DateTime64(3, 'UTC')})) "
        "  AND (length({channels:Array(String)}) = 0 OR first_channel IN {channels:Array(String)}) "
        # sorted here, so the estimator's stable sorts (linear on sorted
        # input) have little left to do
        "ORDER BY duration_days",
        p)
    if frame.empty:  # no rows comes back with no columns either
        return {"frictioned": np.zeros(0, bool), "duration_days": np.zeros(0), "churned": np.zeros(0, bool)}, eod
    return {"frictioned": frame["frictioned"].to_numpy() != 0,
            "duration_days": frame["duration_days"].to_numpy(float),
            "churned": frame["churned"].to_numpy() != 0}, eod


def _no_survival() -> dict[str, Any]:
    return {"customers": 0, "churned": 0} | {
        f"survival_{day}{part}": None for day in LANDMARKS for part in ("", "_ci")}


def retention(wh: Warehouse, settings: Settings, start=None, end=None, channels=()) -> dict[str, Any]:
    """Kaplan–Meier survival at the landmark days per segment (exact durations;
    past the longest follow-up the curve is carried forward, as lifelines
    does), with its 95 % interval, and the log-rank p. The one computation of
    these numbers: ``metrics --json``, the overview tile and the retention
    page all read them from here. The cohort is as in ``landmark_cohort``."""
    arrays, _ = landmark_cohort(wh, start, end, channels)
    out: dict[str, Any] = {"landmark_days": settings.windows.landmark_days, "logrank_p": None, "segments": {}}
    if arrays is None:
        return out | {"segments": {seg: _no_survival() for seg in ("seamless", "frictioned")}}
    frictioned, durations, churned = arrays["frictioned"], arrays["duration_days"], arrays["churned"]
    groups = {}
    for seg, mask in (("seamless", ~frictioned), ("frictioned", frictioned)):
        d, e = durations[mask], churned[mask]
        entry = _no_survival() | {"customers": int(d.size), "churned": int(e.sum())}
        if d.size:
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


def incidents_summary(wh: Warehouse, settings: Settings, start, end) -> dict[str, Any]:
    p = _period(start, end)
    rows = wh.rows(
        "SELECT rule, count() FROM incidents FINAL "
        "WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')} GROUP BY rule", p)
    by_rule = {r.name: 0 for r in settings.active_rules()}
    by_rule.update({rule: int(n) for rule, n in rows})
    return {"total": sum(by_rule.values()), "by_rule": by_rule}


def _intervals(out: dict[str, Any]) -> None:
    """Attach 95 % intervals (Wilson for rates, t for the CES mean)."""
    from seamline.stats.intervals import t_interval_from_moments, wilson

    def w(successes, n):
        r = wilson(int(successes), int(n))
        return None if r.low is None else [r.low, r.high]

    f, c, s, e = out["freshness"], out["continuity"], out["silence"], out["effort"]
    f["slo_met_rate_ci"] = w(f["source_hours_met"], f["source_hours"])
    c["rate_ci"] = w(c["frictionless"], c["transitions"])
    s["repeat_contact_rate_ci"] = w(s["repeat_contacts"], s["contacts"])
    s["no_contact_rate_ci"] = w(s["no_contact_customers"], s["active_customers"])
    s["silence_rate_ci"] = w(s["silent_customers"], s["active_customers"])
    e["ces_easy_rate_ci"] = w(e["easy"], e["responses"])
    m = t_interval_from_moments(e["responses"], e["sum"], e["sum_sq"])
    e["ces_mean_ci"] = None if m.low is None else [m.low, m.high]


def period_metrics(wh: Warehouse, settings: Settings, start, end, intervals: bool = True,
                   workers: int = 1) -> dict[str, Any]:
    """Every KPI family for [start, end). With ``workers`` > 1 the families are
    computed concurrently (their queries run in the engine, outside the GIL)."""
    parts = {
        "freshness": (freshness, (wh, settings, start, end)),
        "continuity": (continuity, (wh, start, end)),
        "silence": (silence, (wh, start, end)),
        "effort": (effort, (wh, settings, start, end)),
        "retention": (retention, (wh, settings, start, end)),
        "incidents": (incidents_summary, (wh, settings, start, end)),
    }
    if workers <= 1:
        done = {name: fn(*args) for name, (fn, args) in parts.items()}
    else:
        from concurrent.futures import ThreadPoolExecutor

        # the costliest families first, so that none of them starts last
        order = sorted(parts, key=lambda name: name not in ("silence", "retention", "freshness"))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {name: pool.submit(parts[name][0], *parts[name][1]) for name in order}
            done = {name: futures[name].result() for name in parts}
    out = {"period": {"from": as_utc(start).isoformat(), "to": as_utc(end).isoformat()}} | done
    if intervals:
        _intervals(out)
    return out


def ces_comparison(current: dict[str, Any], previous: dict[str, Any]):
    """Welch t-test of two periods' CES means from their moments (None when
    either period has fewer than two answers)."""
    import math

    from seamline.stats.intervals import compare_means

    def sd(e):
        n = e["responses"]
        return math.sqrt(max(e["sum_sq"] - e["sum"] ** 2 / n, 0.0) / (n - 1))

    if (current.get("responses") or 0) < 2 or (previous.get("responses") or 0) < 2:
        return None
    return compare_means(current["responses"], current["ces_mean"], sd(current),
                         previous["responses"], previous["ces_mean"], sd(previous))
