"""Kaplan–Meier survival and the log-rank test (SPEC §3 "Retention").

Landmark analysis happens in the caller: ``durations`` are times from each
customer's landmark to ``churn`` (``event = True``) or to the end of data
(``event = False``, right-censored). Units are whatever the caller uses
(days on the retention page).

The estimator and the test follow SciPy's ``ecdf`` on right-censored data and
its ``logrank`` step for step (one sort per sample, counts at the distinct
times), written out on plain arrays: SciPy's versions build Python lists per
observation, which cost more than the statistics on the landmark cohorts of a
large customer base. The pointwise interval is the ``log-log`` one, i.e. the
exponential Greenwood interval that lifelines' ``KaplanMeierFitter`` reports by
default (the tests check both against lifelines).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = ["KMCurve", "LogRank", "kaplan_meier", "logrank", "survival_at"]

ArrayLike = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class KMCurve:
    """A Kaplan–Meier step function.

    ``times`` are the distinct observed durations (events and censorings,
    ascending); ``survival[i]``/``low[i]``/``high[i]`` hold on
    ``[times[i], times[i+1])``; before ``times[0]`` survival is 1. ``n`` is the
    number of subjects, ``events`` the number of observed events. The curve is
    undefined after ``times[-1]`` (the longest follow-up).
    """

    times: tuple[float, ...]
    survival: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    n: int
    events: int
    confidence: float = 0.95


@dataclass(frozen=True)
class LogRank:
    """Log-rank test of equal survival; ``statistic`` is the χ² (1 df) value,
    the same scale as lifelines' ``logrank_test(...).test_statistic``."""

    statistic: float | None
    p_value: float | None


def _clean(durations: ArrayLike, events: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(durations, dtype=float).ravel()
    e = np.asarray(events).ravel().astype(bool)
    if d.shape != e.shape:
        raise ValueError(f"durations and events differ in length: {d.size} vs {e.size}")
    keep = ~np.isnan(d)
    d, e = d[keep], e[keep]
    if np.any(d < 0):
        raise ValueError("durations must be >= 0")
    return d, e


def _risk_table(d: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct times (ascending), the number at risk just before each, and the
    number of events at each (SciPy's ``_ecdf_right_censored``)."""
    # ties need no order (counts are taken per distinct time); a stable sort
    # is linear on input that is already sorted, or two sorted runs (logrank)
    order = np.argsort(d, kind="stable")
    times = d[order]
    died = e[order].astype(np.int64)
    at_risk = np.arange(times.size, 0, -1)
    edge = np.diff(times, prepend=-np.inf, append=np.inf) > 0
    first, last = edge[:-1], edge[1:]
    deaths = np.diff(np.cumsum(died)[last], prepend=0)
    return times[first], at_risk[first], deaths


def kaplan_meier(
    durations: ArrayLike, events: ArrayLike, confidence: float = 0.95
) -> KMCurve:
    """Kaplan–Meier estimate with a pointwise log(−log) (exponential Greenwood)
    interval.

    Where the interval formula is undefined it takes its limit: 1 while S = 1
    (no event yet), 0 once S = 0. NaN durations are dropped. Empty input gives
    an empty curve.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    d, e = _clean(durations, events)
    if d.size == 0:
        return KMCurve((), (), (), (), 0, 0, confidence)
    times, n, dead = _risk_table(d, e)
    surv = np.cumprod((n - dead) / n)
    z = special.ndtri(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        # undefined where S = 1 or S = 0; those points take the limits below
        se = np.sqrt(np.cumsum(dead / (n * (n - dead))) / np.log(surv) ** 2)
        lnl = np.log(-np.log(surv))
        low = np.clip(np.exp(-np.exp(lnl + z * se)), 0.0, 1.0)
        high = np.clip(np.exp(-np.exp(lnl - z * se)), 0.0, 1.0)
    at_one = surv >= 1.0
    at_zero = surv <= 0.0
    low = np.where(at_one, 1.0, np.where(at_zero, 0.0, low))
    high = np.where(at_one, 1.0, np.where(at_zero, 0.0, high))
    return KMCurve(
        times=tuple(times.tolist()),
        survival=tuple(surv.tolist()),
        low=tuple(low.tolist()),
        high=tuple(high.tolist()),
        n=int(d.size),
        events=int(e.sum()),
        confidence=confidence,
    )


def survival_at(
    curve: KMCurve, t: float, extrapolate: bool = False
) -> tuple[float | None, float | None, float | None]:
    """``(S(t), low, high)`` read off the step function.

    S(t) includes events at exactly ``t``; before the first observed time it
    is ``(1.0, 1.0, 1.0)``. After the longest follow-up the curve is unknown
    and the result is ``(None, None, None)`` unless ``extrapolate`` (then the
    last value is carried forward, as lifelines does). An empty curve gives
    ``(None, None, None)``.
    """
    if curve.n == 0 or not curve.times or t is None or math.isnan(t):
        return (None, None, None)
    if t > curve.times[-1] and not extrapolate:
        return (None, None, None)
    i = bisect.bisect_right(curve.times, t) - 1  # on the tuple: no copy to an array per lookup
    if i < 0:
        return (1.0, 1.0, 1.0)
    return (curve.survival[i], curve.low[i], curve.high[i])


def logrank(
    durations_a: ArrayLike,
    events_a: ArrayLike,
    durations_b: ArrayLike,
    events_b: ArrayLike,
) -> LogRank:
    """Two-sided log-rank test between groups a and b (SciPy ``logrank``).

    Both fields are None when either group is empty or there is no event in
    either group.
    """
    da, ea = _clean(durations_a, events_a)
    db, eb = _clean(durations_b, events_b)
    if da.size == 0 or db.size == 0 or (ea.sum() + eb.sum()) == 0:
        return LogRank(None, None)
    # SciPy's ``logrank``: at each distinct event time of the pooled sample,
    # the events expected in a given its share of those at risk.
    times, at_risk, deaths = _risk_table(np.concatenate((da, db)), np.concatenate((ea, eb)))
    has = deaths > 0
    times, at_risk, deaths = times[has], at_risk[has].astype(float), deaths[has].astype(float)
    ta, na, _ = _risk_table(da, ea)
    at_risk_a = np.append(na, 0)[np.searchsorted(ta, times)].astype(float)
    at_risk_b = at_risk - at_risk_a
    num = at_risk_a * at_risk_b * deaths * (at_risk - deaths)  # floats: counts of millions overflow int64
    den = at_risk**2 * (at_risk - 1)
    many = at_risk > 1
    with np.errstate(divide="ignore", invalid="ignore"):
        z = float((int(ea.sum()) - np.sum(at_risk_a * (deaths / at_risk))) / np.sqrt(np.sum(num[many] / den[many])))
        p = float(2.0 * special.ndtr(-abs(z)))
    if not (math.isfinite(z) and math.isfinite(p)):
        return LogRank(None, None)
    return LogRank(z * z, p)
