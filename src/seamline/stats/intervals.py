"""Confidence intervals and two-sample comparisons for rates and means.

Pure functions with typed inputs and frozen result dataclasses. Empty inputs
never raise: the result carries ``None`` where a value is undefined.

Used for SPEC §3 "Customer effort score" (``ces_mean`` with a 95 % t-interval,
``ces_easy_rate`` with a 95 % Wilson interval) and for comparing segments,
periods and channels on the dashboards.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "Comparison",
    "MeanInterval",
    "Proportion",
    "compare_distributions",
    "compare_means",
    "t_interval",
    "t_interval_from_moments",
    "two_proportions",
    "wilson",
]


@dataclass(frozen=True)
class Proportion:
    """``successes / n`` with a confidence interval; ``rate`` etc. None when n == 0."""

    successes: int
    n: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class MeanInterval:
    """Sample mean with a Student-t confidence interval.

    ``sd`` is the sample standard deviation (ddof=1). With n == 0 every field
    but ``n`` is None; with n == 1 the mean is known but ``low``/``high``/``sd``
    are None.
    """

    n: int
    mean: float | None
    low: float | None
    high: float | None
    sd: float | None


@dataclass(frozen=True)
class Comparison:
    """Result of a two-sample test.

    ``diff`` is group 1 minus group 2 (of rates, medians or means, see
    ``method``); ``p_value`` is two-sided and None when the test is undefined;
    ``significant`` is ``p_value < alpha`` (False when p is None).
    """

    diff: float | None
    p_value: float | None
    significant: bool
    method: str


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def wilson(successes: int, n: int, confidence: float = 0.95) -> Proportion:
    """Wilson score interval for a binomial proportion (no continuity correction).

    centre = (p + z²/2n) / (1 + z²/n),
    half   = z / (1 + z²/n) · sqrt(p(1−p)/n + z²/4n²).
    """
    z = _z(confidence)
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes}/{n}")
    if n == 0:
        return Proportion(successes, n, None, None, None)
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Proportion(successes, n, p, low, high)


def t_interval_from_moments(
    n: int, total: float, total_sq: float, confidence: float = 0.95
) -> MeanInterval:
    """Student-t interval for the mean from ``n``, ``Σx`` and ``Σx²``.

    Lets a rollup (e.g. ClickHouse ``count()``, ``sum(x)``, ``sum(x*x)``) feed
    the interval without the raw values. Sample variance is
    ``(Σx² − (Σx)²/n) / (n − 1)``, floored at 0 against rounding.
    """
    _z(confidence)  # validates confidence
    n = int(n)
    if n <= 0:
        return MeanInterval(0, None, None, None, None)
    mean = float(total) / n
    if n == 1:
        return MeanInterval(1, mean, None, None, None)
    var = max(0.0, (float(total_sq) - float(total) * float(total) / n) / (n - 1))
    sd = math.sqrt(var)
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * sd / math.sqrt(n)
    return MeanInterval(n, mean, mean - half, mean + half, sd)


def t_interval(
    values: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> MeanInterval:
    """Student-t interval for the mean of ``values`` (NaNs are dropped)."""
    x = np.asarray(values, dtype=float).ravel()
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return t_interval_from_moments(0, 0.0, 0.0, confidence)
    mean = float(x.mean())
    if n == 1:
        _z(confidence)
        return MeanInterval(1, mean, None, None, None)
    sd = float(x.std(ddof=1))  # two-pass: more accurate than the moments form
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * sd / math.sqrt(n)
    return MeanInterval(n, mean, mean - half, mean + half, sd)


def two_proportions(
    s1: int, n1: int, s2: int, n2: int, alpha: float = 0.05
) -> Comparison:
    """Pooled two-sided z-test of ``s1/n1`` against ``s2/n2``.

    z = (p1 − p2) / sqrt(p(1−p)(1/n1 + 1/n2)) with p = (s1+s2)/(n1+n2).
    ``diff`` is None when a group is empty; ``p_value`` is None also when the
    pooled rate is 0 or 1 (no variance).
    """
    method = "two-proportion z-test (pooled)"
    if n1 <= 0 or n2 <= 0:
        return Comparison(None, None, False, method)
    p1, p2 = s1 / n1, s2 / n2
    diff = p1 - p2
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:
        return Comparison(diff, None, False, method)
    z = diff / se
    p = float(2.0 * stats.norm.sf(abs(z)))
    return Comparison(diff, p, p < alpha, method)


def compare_distributions(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
) -> Comparison:
    """Two-sided Mann–Whitney U test; ``diff`` = median(a) − median(b).

    NaNs are dropped. p is None when a group is empty or when every value in
    both groups is identical (the test is undefined).
    """
    method = "Mann-Whitney U (two-sided)"
    x = np.asarray(a, dtype=float).ravel()
    y = np.asarray(b, dtype=float).ravel()
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if x.size == 0 or y.size == 0:
        return Comparison(None, None, False, method)
    diff = float(np.median(x) - np.median(y))
    if np.all(x == x[0]) and np.all(y == x[0]):
        return Comparison(diff, None, False, method)
    p = _finite(stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)
    return Comparison(diff, p, p is not None and p < alpha, method)


def compare_means(
    n1: int,
    mean1: float | None,
    sd1: float | None,
    n2: int,
    mean2: float | None,
    sd2: float | None,
    alpha: float = 0.05,
) -> Comparison:
    """Welch's two-sided t-test from summary statistics (``sd`` with ddof=1).

    ``diff`` = mean1 − mean2 (None when a group is empty); p is None when a
    group has fewer than 2 values or both standard deviations are 0.
    """
    method = "Welch t-test"
    if n1 <= 0 or n2 <= 0 or mean1 is None or mean2 is None:
        return Comparison(None, None, False, method)
    diff = float(mean1) - float(mean2)
    if n1 < 2 or n2 < 2 or sd1 is None or sd2 is None or (sd1 == 0 and sd2 == 0):
        return Comparison(diff, None, False, method)
    res = stats.ttest_ind_from_stats(
        mean1, sd1, n1, mean2, sd2, n2, equal_var=False, alternative="two-sided"
    )
    p = _finite(res.pvalue)
    return Comparison(diff, p, p is not None and p < alpha, method)
