"""Latency-regression detection on hourly p95 lag (SPEC §3 "Latency regression").

For each source the input is its hourly series (hour, p95 lag in seconds,
event count). The method, per source:

1. **Filter.** Hours with fewer than ``min_count_per_hour`` events (their p95
   is mostly noise) or a missing / non-positive p95 are ignored; the others are
   taken in time order (gaps are allowed).
2. **Deseasonalise.** ``y = log(p95)``. A 24-hour centred rolling median is
   subtracted to get residuals; if the residuals differ by hour of day
   (Kruskal–Wallis p < 0.01) the per-hour-of-day median residual (centred) is
   the daily profile and is removed, otherwise the profile is 0. So a daily
   peak is not a regression, and a series without a daily cycle is left as is.
3. **Change points.** Exact optimal partitioning (solved by PELT) of
   the deseasonalised ``z`` into segments of at least ``min_hours`` hours,
   Gaussian mean-change cost scaled by a noise estimate from first
   differences (the larger of the MAD- and sd-based ones), penalty
   ``4·log(n)`` per change point. The penalty is deliberately strict: the
   after-segment is chosen where it differs most, so the Mann–Whitney
   p-value alone would be optimistic.
4. **Candidates.** Every change point where the level goes up is a candidate:
   its *after* segment is compared with the segment immediately before it (the
   *baseline*), so an earlier regression never leaks into a later baseline.
   Test: one-sided Mann–Whitney U (after > baseline) on the deseasonalised
   hourly values.
5. **Decision.** p-values of all candidates of all sources are adjusted with
   Benjamini–Hochberg; a regression is reported when the adjusted p < ``alpha``
   AND ``ratio >= min_ratio``.

Levels: ``baseline_p95_s`` / ``after_p95_s`` are the medians of the segment's
hourly p95 values after removing the daily profile (for a series without a
daily cycle: exactly the median of the hourly p95 values); ``ratio`` is
``after_p95_s / baseline_p95_s``; ``p_value`` is the BH-adjusted p-value.

Recovery: ``recovered`` is True when the trailing segments of the series, at
least ``min_hours`` hours in all, are all at or below 1.2 × the baseline level;
``recovered_at`` is the first hour of that trailing stretch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

__all__ = [
    "Regression",
    "SourceSeries",
    "change_points",
    "detect_regressions",
    "series_from_frame",
]

RECOVERY_FACTOR = 1.2
PENALTY_PER_LOG_N = 4.0
PRUNE_EVERY = 8  # blocks of ends between two PELT pruning passes
SEASONALITY_ALPHA = 0.01


@dataclass(frozen=True, eq=False)
class SourceSeries:
    """One source's hourly series: hour starts (UTC; datetime64 or Timestamps),
    hourly p95 lag in seconds, events per hour, optionally hourly p50."""

    hours: Sequence[Any] | np.ndarray | pd.DatetimeIndex
    p95: Sequence[float] | np.ndarray
    counts: Sequence[int] | np.ndarray
    p50: Sequence[float] | np.ndarray | None = None


@dataclass(frozen=True)
class Regression:
    """A detected latency regression (see the module docstring for definitions).

    ``onset`` and ``recovered_at`` are tz-aware UTC ``pd.Timestamp`` hour starts.
    """

    source: str
    onset: pd.Timestamp
    baseline_p95_s: float
    after_p95_s: float
    ratio: float
    p_value: float
    recovered: bool
    recovered_at: pd.Timestamp | None


@dataclass(frozen=True)
class _Candidate:
    source: str
    onset: pd.Timestamp
    baseline: float
    after: float
    p_raw: float
    recovered: bool
    recovered_at: pd.Timestamp | None


def _utc_index(hours: Any) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(pd.to_datetime(hours))
    return idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")


def _noise_scale(z: np.ndarray) -> float:
    """Noise sd of ``z`` from first differences (barely moved by level shifts)."""
    if z.size < 3:
        return 1.0
    d = np.diff(z)
    robust = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2.0)
    plain = float(np.std(d)) / math.sqrt(2.0)
    # The larger of the two: MAD alone under-states the spread of the skewed,
    # heavy-tailed log-p95 noise; the plain sd barely moves for a few steps.
    sigma = max(robust, plain)
    return sigma if sigma > 0 else 1e-6


def _optimal_partition(x: np.ndarray, min_size: int, pen: float, sigma2: float, prune: bool) -> list[int]:
    """argmin over segmentations of Σ SSE/σ² + pen per segment, segments ≥ ``min_size``.

    The recursion F(t) = min_s F(s) + C(s, t) + pen only reads F(s) for
    s ≤ t − ``min_size``, so ``min_size`` consecutive ends t are solved at once
    as one (ends × candidates) array; a candidate too recent for an end gets an
    infinite cost there.

    ``prune`` adds PELT's pruning (Killick et al. 2012), which keeps the answer
    exact: the SSE cost is superadditive, C(s, T) ≥ C(s, t) + C(t, T), so once
    F(s) + C(s, t) > F(t), the last change s loses to t at every T ≥ t +
    ``min_size`` (where t itself is a feasible last change). s is dropped from
    the candidates only from then on (earlier, t is not yet a candidate), and
    only at a later block: the test runs every ``PRUNE_EVERY`` blocks, as on
    a series without changes it rarely drops anything.  Keeping strictly worse
    candidates a little longer changes neither the minimum nor the first argmin.
    """
    n = int(x.size)
    # In units of the noise (σ = 1), C(s, t) = S2(t) − S2(s) − (S1(t) − S1(s))² / (t − s)
    # over the prefix sums S1, S2.  S2(t) is the same for every candidate of an
    # end, so candidates are compared on g(s, t) = F(s) − S2(s) − (S1(t) − S1(s))² / (t − s)
    # and F(t) = min_s g(s, t) + S2(t) + pen: three operations per (end, candidate).
    u = x / math.sqrt(sigma2)
    s1 = np.concatenate(([0.0], np.cumsum(u)))
    s2 = np.concatenate(([0.0], np.cumsum(u * u)))
    best = np.full(n + 1, np.inf)
    best[0] = -pen
    last = np.zeros(n + 1, dtype=np.int64)
    dead_at = np.full(n + 1, n + min_size + 1, dtype=np.int64)  # first end a candidate is pruned for
    active = np.empty(0, dtype=np.int64)
    tol = 1e-9 * max(1.0, float(np.abs(s2[-1])))
    position = np.arange(n + 1, dtype=float)
    t, block = min_size, 0
    while t <= n:
        ends = np.arange(t, min(t + min_size, n + 1))
        fresh = ends - min_size
        active = np.concatenate((active, fresh[np.isfinite(best[fresh])]))
        check = prune and block % PRUNE_EVERY == 0
        if check:
            active = active[dead_at[active] > t]
        length = position[ends][:, None] - position[active][None, :]  # >= 1: active <= ends[-1] - min_size
        g = s1[ends][:, None] - s1[active][None, :]
        g *= g
        g /= length
        np.subtract((best[active] - s2[active])[None, :], g, out=g)
        tail = g[:, -min_size:]  # only the newest candidates can be too recent for an end
        tail[length[:, -min_size:] < min_size] = np.inf
        j = np.argmin(g, axis=1)
        low = g[np.arange(ends.size), j]
        best[ends] = low + s2[ends] + pen
        last[ends] = active[j]
        if check:
            worse = g > (low + pen + tol)[:, None]
            worse[:, -min_size:] &= np.isfinite(tail)
            hit = worse.any(axis=0)
            if hit.any():
                gone = active[hit]
                dead_at[gone] = np.minimum(dead_at[gone], ends[worse.argmax(axis=0)][hit] + min_size)
        t, block = int(ends[-1]) + 1, block + 1
    cps: list[int] = []
    t = n
    while t > 0:
        t = int(last[t])
        if t > 0:
            cps.append(t)
    return sorted(cps)


def change_points(
    z: Sequence[float] | np.ndarray,
    min_size: int = 6,
    penalty: float | None = None,
) -> list[int]:
    """Start indices (ascending, excluding 0) of the segments of ``z``.

    Exact optimal partitioning minimising Σ segment SSE / σ² + penalty per
    change, each segment at least ``min_size`` long; σ is the robust noise
    scale and the default penalty is ``4·log(n)``. Solved by PELT (pruned
    dynamic programming, same optimum; close to linear time on long series).
    """
    x = np.asarray(z, dtype=float)
    n = int(x.size)
    if min_size < 1:
        raise ValueError("min_size must be >= 1")
    if n < 2 * min_size:
        return []
    sigma2 = _noise_scale(x) ** 2
    pen = PENALTY_PER_LOG_N * math.log(n) if penalty is None else float(penalty)
    return _optimal_partition(x, min_size, pen, sigma2, prune=True)


def _tie_term(x: np.ndarray) -> float:
    """Σ (t³ − t) over the sizes t of the groups of equal values in ``x`` (0: no ties)."""
    counts = np.unique(x, return_counts=True)[1].astype(float)
    return float(np.sum(counts**3 - counts))


def _kruskal_p(groups: list[np.ndarray]) -> float:
    """``scipy.stats.kruskal(*groups).pvalue`` (tie-corrected H, χ² with k − 1
    df) without SciPy's per-call argument handling, which cost more than the
    test on a few thousand hours; ValueError when all values are identical."""
    x = np.concatenate(groups)
    n = x.size
    ranks = stats.rankdata(x)
    sizes = np.array([g.size for g in groups])
    sums = np.add.reduceat(ranks, np.concatenate(([0], np.cumsum(sizes)[:-1])))
    h = 12.0 / (n * (n + 1)) * float(np.sum(sums * sums / sizes)) - 3.0 * (n + 1)
    ties = 1.0 - _tie_term(x) / (float(n) ** 3 - n)
    if ties == 0:
        raise ValueError("all values are identical")
    return float(special.chdtrc(len(groups) - 1, h / ties))


def _mann_whitney_greater_p(x: np.ndarray, y: np.ndarray) -> float:
    """``scipy.stats.mannwhitneyu(x, y, alternative="greater").pvalue``.

    SciPy's choice of method is kept: the exact distribution when a sample has
    at most 8 values and there are no ties (SciPy computes it), otherwise the
    normal approximation with tie and continuity corrections, computed here."""
    n1, n2 = x.size, y.size
    both = np.concatenate((x, y))
    ties = _tie_term(both)
    if (n1 <= 8 or n2 <= 8) and ties == 0:
        return float(stats.mannwhitneyu(x, y, alternative="greater").pvalue)
    u1 = float(np.sum(stats.rankdata(both)[:n1])) - n1 * (n1 + 1) / 2
    n = n1 + n2
    s = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.float64(u1 - n1 * n2 / 2 - 0.5) / s
    return float(np.clip(special.ndtr(-z), 0.0, 1.0))


def _daily_profile(idx: pd.DatetimeIndex, y: np.ndarray) -> np.ndarray:
    """Per-observation seasonal offset in log space (zeros if no daily cycle)."""
    zero = np.zeros_like(y)
    if y.size < 48:
        return zero
    trend = (
        pd.Series(y, index=idx.tz_localize(None))
        .rolling("24h", center=True, min_periods=6)
        .median()
        .to_numpy()
    )
    resid = y - trend
    hod = idx.hour.to_numpy()
    ok = np.isfinite(resid)
    groups = {h: resid[ok & (hod == h)] for h in range(24)}
    groups = {h: g for h, g in groups.items() if g.size >= 2}
    if len(groups) < 2:
        return zero
    try:
        p = _kruskal_p(list(groups.values()))
    except ValueError:  # all values identical
        return zero
    if not (np.isfinite(p) and p < SEASONALITY_ALPHA):
        return zero
    prof = {h: float(np.median(g)) for h, g in groups.items()}
    centre = float(np.median(list(prof.values())))
    offsets = np.array([prof.get(h, centre) - centre for h in range(24)])
    return offsets[hod]


def _candidates(
    source: str, series: SourceSeries, min_count_per_hour: int, min_hours: int
) -> list[_Candidate]:
    idx = _utc_index(series.hours)
    p95 = np.asarray(series.p95, dtype=float).ravel()
    counts = np.asarray(series.counts, dtype=float).ravel()
    if not (len(idx) == p95.size == counts.size):
        raise ValueError(f"source {source!r}: hours, p95 and counts differ in length")
    keep = np.isfinite(p95) & (p95 > 0) & (counts >= min_count_per_hour)
    idx, p95 = idx[keep], p95[keep]
    order = np.argsort(idx.asi8, kind="stable")
    idx, p95 = idx[order], p95[order]
    if p95.size < 2 * min_hours:
        return []
    y = np.log(p95)
    offset = _daily_profile(idx, y)
    z = y - offset
    adjusted = p95 * np.exp(-offset)

    bounds = [0, *change_points(z, min_size=min_hours), int(z.size)]
    segments = list(zip(bounds[:-1], bounds[1:], strict=True))
    levels = [float(np.median(adjusted[a:b])) for a, b in segments]
    out: list[_Candidate] = []
    for k in range(1, len(segments)):
        if levels[k] <= levels[k - 1]:
            continue
        (a0, b0), (a1, b1) = segments[k - 1], segments[k]
        p = float(
            _mann_whitney_greater_p(z[a1:b1], z[a0:b0])
        )
        base = levels[k - 1]
        # Recovery: longest trailing run of segments after this one, all
        # within RECOVERY_FACTOR x baseline, spanning >= min_hours.
        recovered_at = None
        j = len(segments)
        while j - 1 > k and levels[j - 1] <= RECOVERY_FACTOR * base:
            j -= 1
        if j < len(segments) and segments[-1][1] - segments[j][0] >= min_hours:
            recovered_at = idx[segments[j][0]]
        out.append(
            _Candidate(
                source=source,
                onset=idx[a1],
                baseline=base,
                after=levels[k],
                p_raw=p,
                recovered=recovered_at is not None,
                recovered_at=recovered_at,
            )
        )
    return out


def detect_regressions(
    series: Mapping[str, SourceSeries],
    alpha: float = 0.01,
    min_ratio: float = 1.5,
    min_count_per_hour: int = 5,
    min_hours: int = 6,
) -> list[Regression]:
    """Latency regressions of every source, sorted by (source, onset).

    Benjamini–Hochberg runs over the candidates of all sources together;
    a source with too little data (< 2 × ``min_hours`` usable hours) simply
    contributes no candidates.
    """
    cands: list[_Candidate] = []
    for source, s in series.items():
        cands.extend(_candidates(source, s, min_count_per_hour, min_hours))
    if not cands:
        return []
    adjusted = stats.false_discovery_control([c.p_raw for c in cands], method="bh")
    found = [
        Regression(
            source=c.source,
            onset=c.onset,
            baseline_p95_s=c.baseline,
            after_p95_s=c.after,
            ratio=c.after / c.baseline,
            p_value=float(q),
            recovered=c.recovered,
            recovered_at=c.recovered_at,
        )
        for c, q in zip(cands, adjusted, strict=True)
        if q < alpha and c.after / c.baseline >= min_ratio
    ]
    return sorted(found, key=lambda r: (r.source, r.onset))


def series_from_frame(
    frame: pd.DataFrame,
    source: str = "source",
    hour: str = "hour",
    p95: str = "p95",
    count: str = "count",
    p50: str | None = None,
) -> dict[str, SourceSeries]:
    """Split a long frame of hourly rollups (one row per source and hour) into
    the ``{source: SourceSeries}`` mapping ``detect_regressions`` takes."""
    out: dict[str, SourceSeries] = {}
    if frame.empty:
        return out
    ordered = frame.sort_values([source, hour], kind="stable")
    names = ordered[source].astype(str).to_numpy()
    cuts = np.flatnonzero(names[1:] != names[:-1]) + 1
    columns = {"hours": ordered[hour].to_numpy(), "p95": ordered[p95].to_numpy(dtype=float),
               "counts": ordered[count].to_numpy()}
    if p50 is not None:
        columns["p50"] = ordered[p50].to_numpy(dtype=float)
    parts = {k: np.split(v, cuts) for k, v in columns.items()}
    for i, start in enumerate(np.concatenate(([0], cuts))):
        out[str(names[start])] = SourceSeries(**{k: v[i] for k, v in parts.items()})
    return out
