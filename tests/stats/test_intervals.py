import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from seamline.stats.intervals import (
    Comparison,
    MeanInterval,
    Proportion,
    compare_distributions,
    compare_means,
    t_interval,
    t_interval_from_moments,
    two_proportions,
    wilson,
)

Z95 = 1.959963984540054


# --- wilson ---------------------------------------------------------------


def test_wilson_hand_computed():
    # 8/10, z = 1.96: p = .8, z² = 3.8415, 1 + z²/n = 1.38415
    # centre = (.8 + .19207) / 1.38415 = .71679
    # half   = 1.96/1.38415 · sqrt(.016 + .0096036) = 1.41600 · .16001 = .22658
    # -> (.49020, .94337)
    r = wilson(8, 10)
    assert r.successes == 8 and r.n == 10 and r.rate == 0.8
    assert r.low == pytest.approx(0.49016, abs=1e-4)
    assert r.high == pytest.approx(0.94332, abs=1e-4)


def test_wilson_matches_scipy_binomtest():
    for k, n in [(0, 5), (1, 1), (3, 7), (50, 100), (999, 1000)]:
        ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.9, method="wilson")
        r = wilson(k, n, confidence=0.9)
        assert r.low == pytest.approx(ref.low, abs=1e-12)
        assert r.high == pytest.approx(ref.high, abs=1e-12)


def test_wilson_edges():
    assert wilson(0, 0) == Proportion(0, 0, None, None, None)
    zero = wilson(0, 10)
    assert zero.low == 0.0 and 0 < zero.high < 0.31  # 3.8415/13.8415 = .2775
    assert zero.high == pytest.approx(0.27753, abs=1e-4)
    full = wilson(10, 10)
    assert full.high == 1.0 and full.low == pytest.approx(1 - 0.27753, abs=1e-4)
    with pytest.raises(ValueError):
        wilson(3, 2)
    with pytest.raises(ValueError):
        wilson(1, 2, confidence=1.0)


@given(st.integers(min_value=1, max_value=10_000), st.data(), st.floats(0.5, 0.999))
def test_wilson_property_contains_rate_within_unit_interval(n, data, conf):
    k = data.draw(st.integers(min_value=0, max_value=n))
    r = wilson(k, n, confidence=conf)
    assert 0.0 <= r.low <= r.rate <= r.high <= 1.0
    # a wider confidence never gives a narrower interval
    wider = wilson(k, n, confidence=min(0.9999, conf + 0.0005))
    assert wider.low <= r.low + 1e-12 and wider.high >= r.high - 1e-12


# --- t intervals ----------------------------------------------------------


def test_t_interval_hand_computed():
    # x = 1,2,3,4: mean 2.5, s² = (2.25+.25+.25+2.25)/3 = 5/3, s = 1.290994
    # t(.975, 3) = 3.182446; half = 3.182446 · 1.290994 / 2 = 2.054260
    r = t_interval([1, 2, 3, 4])
    assert r.n == 4 and r.mean == 2.5
    assert r.sd == pytest.approx(math.sqrt(5 / 3))
    assert r.low == pytest.approx(2.5 - 2.054260, abs=1e-6)
    assert r.high == pytest.approx(2.5 + 2.054260, abs=1e-6)


def test_t_interval_matches_scipy():
    x = np.random.default_rng(1).normal(4.2, 1.3, size=57)
    ref = stats.ttest_1samp(x, 0).confidence_interval(0.9)
    r = t_interval(x, confidence=0.9)
    assert (r.low, r.high) == pytest.approx((ref.low, ref.high), rel=1e-12)


def test_t_interval_from_moments_equals_raw():
    x = np.array([1.0, 5.0, 7.0, 7.0, 3.0])
    # n=5, Σx=23, Σx²=1+25+49+49+9=133; s² = (133 − 23²/5)/4 = (133 − 105.8)/4 = 6.8
    m = t_interval_from_moments(5, 23.0, 133.0)
    assert m.sd == pytest.approx(math.sqrt(6.8))
    r = t_interval(x)
    assert m.mean == pytest.approx(r.mean) and m.low == pytest.approx(r.low)
    assert m.high == pytest.approx(r.high)


def test_t_interval_edges():
    assert t_interval([]) == MeanInterval(0, None, None, None, None)
    assert t_interval([float("nan")]) == MeanInterval(0, None, None, None, None)
    assert t_interval([3.0]) == MeanInterval(1, 3.0, None, None, None)
    assert t_interval_from_moments(0, 0, 0) == MeanInterval(0, None, None, None, None)
    assert t_interval_from_moments(1, 6, 36) == MeanInterval(1, 6.0, None, None, None)
    const = t_interval([2.0, 2.0, 2.0])
    assert (const.low, const.high, const.sd) == (2.0, 2.0, 0.0)
    # rounding can make Σx² − (Σx)²/n slightly negative: floored to 0
    assert t_interval_from_moments(3, 0.3, 0.03 - 1e-18).sd == 0.0


# --- comparisons ----------------------------------------------------------


def test_two_proportions_hand_computed():
    # 8/10 vs 5/10: pooled p = 13/20 = .65, se = sqrt(.65·.35·(.1+.1)) = .213307
    # z = .3/.213307 = 1.40643; p = 2·(1 − Φ(1.40643)) = .159599
    r = two_proportions(8, 10, 5, 10)
    assert r.diff == pytest.approx(0.3)
    assert r.p_value == pytest.approx(0.159599, abs=1e-6)
    assert r.significant is False
    big = two_proportions(800, 1000, 500, 1000)
    assert big.significant and big.p_value < 1e-40


def test_two_proportions_matches_chi2_contingency():
    # the pooled z-test is the 2×2 chi-square test without Yates' correction
    table = [[37, 63], [52, 48]]
    ref = stats.chi2_contingency(table, correction=False).pvalue
    assert two_proportions(37, 100, 52, 100).p_value == pytest.approx(ref, rel=1e-10)


def test_two_proportions_undefined():
    assert two_proportions(0, 0, 3, 10) == Comparison(
        None, None, False, "two-proportion z-test (pooled)"
    )
    both_zero = two_proportions(0, 10, 0, 20)
    assert both_zero.diff == 0.0 and both_zero.p_value is None


def test_compare_distributions_hand_computed_and_scipy():
    # a = 1,2,3 vs b = 4,5,6: U = 0, exact two-sided p = 2/C(6,3) = 2/20 = .1
    r = compare_distributions([1, 2, 3], [4, 5, 6])
    assert r.diff == -3.0 and r.p_value == pytest.approx(0.1)
    rng = np.random.default_rng(7)
    a, b = rng.exponential(1.0, 80), rng.exponential(1.6, 90)
    ref = stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
    assert compare_distributions(a, b).p_value == pytest.approx(ref, rel=1e-12)


def test_compare_distributions_edges():
    assert compare_distributions([], [1.0]).p_value is None
    assert compare_distributions([1.0], [float("nan")]).diff is None
    same = compare_distributions([2.0, 2.0], [2.0, 2.0, 2.0])
    assert same.diff == 0.0 and same.p_value is None and same.significant is False


def test_compare_means_hand_computed_and_scipy():
    # Welch: n1=10, m1=5, s1=1; n2=12, m2=4, s2=2
    # se² = 1/10 + 4/12 = .433333, t = 1/.658281 = 1.519109
    # df = .433333² / (.01/9 + .111111/11) = .187778/.0112121 = 16.7478
    r = compare_means(10, 5.0, 1.0, 12, 4.0, 2.0)
    assert r.diff == 1.0
    t, df = 1.519109, 16.7478
    assert r.p_value == pytest.approx(2 * stats.t.sf(t, df), rel=1e-4)
    rng = np.random.default_rng(3)
    a, b = rng.normal(3, 1, 40), rng.normal(3.5, 2, 25)
    ref = stats.ttest_ind(a, b, equal_var=False).pvalue
    got = compare_means(40, a.mean(), a.std(ddof=1), 25, b.mean(), b.std(ddof=1))
    assert got.p_value == pytest.approx(ref, rel=1e-10)


def test_compare_means_undefined():
    assert compare_means(0, None, None, 5, 1.0, 1.0).diff is None
    one = compare_means(1, 3.0, None, 5, 1.0, 1.0)
    assert one.diff == 2.0 and one.p_value is None
    flat = compare_means(3, 2.0, 0.0, 3, 2.0, 0.0)
    assert flat.p_value is None and not flat.significant
