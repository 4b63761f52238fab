import math

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test

from seamline.stats.survival import KMCurve, LogRank, kaplan_meier, logrank, survival_at


def _lifelines(d, e, confidence=0.95):
    kmf = KaplanMeierFitter(alpha=1 - confidence).fit(d, e)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    return sf, ci.iloc[:, 0], ci.iloc[:, 1]


def _assert_matches_lifelines(d, e, confidence=0.95):
    curve = kaplan_meier(d, e, confidence)
    sf, lo, hi = _lifelines(d, e, confidence)
    for t, s, l, h in zip(curve.times, curve.survival, curve.low, curve.high, strict=True):
        assert s == pytest.approx(sf.loc[t], abs=1e-6)
        assert l == pytest.approx(lo.loc[t], abs=1e-6)
        assert h == pytest.approx(hi.loc[t], abs=1e-6)
    # every lifelines time point (except its added t=0) is on our curve
    assert set(sf.index) - {0.0} <= set(curve.times)
    return curve


def test_km_hand_computed():
    # durations 1,2,2,3,5 ; events 1,1,0,1,0
    # t=1: at risk 5, 1 event -> S = 4/5 = .8
    # t=2: at risk 4, 1 event (+1 censored) -> S = .8 · 3/4 = .6
    # t=3: at risk 2, 1 event -> S = .6 · 1/2 = .3
    # t=5: censored -> S stays .3
    curve = kaplan_meier([1, 2, 2, 3, 5], [1, 1, 0, 1, 0])
    assert curve.times == (1.0, 2.0, 3.0, 5.0)
    assert curve.survival == pytest.approx((0.8, 0.6, 0.3, 0.3))
    assert (curve.n, curve.events) == (5, 3)
    # exponential Greenwood at t=1: V = 1/(5·4) / log(.8)² = .05/.049793 = 1.004158
    # log(-log .8) = -1.499940 ; ± 1.959964·sqrt(V) = ± 1.964044
    # low = .8^{exp(1.964044)} = .8^{7.128...}, high = .8^{exp(-1.964044)} = .8^{.14030}
    v = (1 / 20) / math.log(0.8) ** 2
    w = 1.959963984540054 * math.sqrt(v)
    assert curve.low[0] == pytest.approx(0.8 ** math.exp(w), abs=1e-9)
    assert curve.high[0] == pytest.approx(0.8 ** math.exp(-w), abs=1e-9)
    _assert_matches_lifelines([1, 2, 2, 3, 5], [1, 1, 0, 1, 0])


@pytest.mark.parametrize("seed", range(5))
def test_km_matches_lifelines_random_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = 200
    d = np.round(rng.exponential(40, n))  # rounding to whole days makes ties
    e = rng.random(n) < 0.6
    _assert_matches_lifelines(d, e)
    _assert_matches_lifelines(d, e, confidence=0.9)


def test_km_edge_cases_match_lifelines():
    # duration 0 with an event, ties of events and censorings at one time
    _assert_matches_lifelines([0, 0, 1, 1, 1, 4, 4], [1, 0, 1, 1, 0, 1, 0])
    # everyone has the event: S reaches 0 and the interval collapses to 0
    c = _assert_matches_lifelines([1, 2, 3], [1, 1, 1])
    assert (c.survival[-1], c.low[-1], c.high[-1]) == (0.0, 0.0, 0.0)


def test_km_all_censored_and_empty():
    c = kaplan_meier([3, 5, 8], [0, 0, 0])
    assert c.survival == (1.0, 1.0, 1.0) and c.low == (1.0,) * 3 and c.high == (1.0,) * 3
    assert c.events == 0 and c.n == 3
    _, lo, hi = _lifelines([3, 5, 8], [0, 0, 0])
    assert set(lo) == {1.0} and set(hi) == {1.0}
    empty = kaplan_meier([], [])
    assert empty == KMCurve((), (), (), (), 0, 0, 0.95)
    assert survival_at(empty, 30) == (None, None, None)
    with pytest.raises(ValueError):
        kaplan_meier([1, 2], [1])
    with pytest.raises(ValueError):
        kaplan_meier([-1], [1])


def test_survival_at_step_lookup():
    curve = kaplan_meier([1, 2, 2, 3, 5], [1, 1, 0, 1, 0])
    assert survival_at(curve, 0.5) == (1.0, 1.0, 1.0)  # before the first event
    assert survival_at(curve, 1)[0] == pytest.approx(0.8)  # events at t count
    assert survival_at(curve, 1.99)[0] == pytest.approx(0.8)
    assert survival_at(curve, 2)[0] == pytest.approx(0.6)
    s, lo, hi = survival_at(curve, 4)
    assert s == pytest.approx(0.3) and lo < s < hi
    assert survival_at(curve, 5)[0] == pytest.approx(0.3)  # last follow-up
    assert survival_at(curve, 6) == (None, None, None)  # beyond follow-up
    assert survival_at(curve, 6, extrapolate=True)[0] == pytest.approx(0.3)


def test_survival_at_matches_lifelines_predict():
    rng = np.random.default_rng(11)
    d, e = rng.exponential(50, 300), rng.random(300) < 0.5
    curve = kaplan_meier(d, e)
    kmf = KaplanMeierFitter().fit(d, e)
    for t in (30, 60, 90):
        assert survival_at(curve, t)[0] == pytest.approx(float(kmf.predict(t)), abs=1e-9)


def test_logrank_hand_computed():
    # a: 1(e), 3(e) ; b: 2(e), 4(e)
    # t=1: n=4 (2 in a), d=1: E_a = .5, V = 2·2·1·3/(16·3) = .25
    # t=2: n=3 (1 in a), d=1: E_a = 1/3, V = 1·2·1·2/(9·2) = 2/9
    # t=3: n=2 (1 in a), d=1: E_a = .5,  V = .25
    # t=4: n=1 (0 in a): E_a = 0, V = 0
    # O_a − E_a = 2 − 4/3 = 2/3 ; V = .25 + .2222 + .25 = .72222
    # χ² = (2/3)² / .72222 = .615385
    r = logrank([1, 3], [1, 1], [2, 4], [1, 1])
    assert r.statistic == pytest.approx(0.615385, abs=1e-6)
    ref = logrank_test([1, 3], [2, 4], [1, 1], [1, 1])
    assert r.p_value == pytest.approx(ref.p_value, abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_logrank_matches_lifelines(seed):
    rng = np.random.default_rng(seed)
    da, db = np.round(rng.exponential(30, 120)), np.round(rng.exponential(40, 90))
    ea, eb = rng.random(120) < 0.7, rng.random(90) < 0.6
    r = logrank(da, ea, db, eb)
    ref = logrank_test(da, db, ea, eb)
    assert r.statistic == pytest.approx(ref.test_statistic, rel=1e-9)
    assert r.p_value == pytest.approx(ref.p_value, rel=1e-9, abs=1e-12)


def test_logrank_undefined():
    assert logrank([], [], [1, 2], [1, 0]) == LogRank(None, None)
    assert logrank([1, 2], [0, 0], [3], [0]) == LogRank(None, None)
    # events in one group only is fine
    one_sided = logrank([1, 2, 3], [1, 1, 1], [5, 6, 7], [0, 0, 0])
    assert one_sided.p_value is not None and 0 < one_sided.p_value < 1


@pytest.mark.filterwarnings("ignore:The confidence interval is undefined")  # SciPy's, at S = 1
def test_km_and_logrank_match_scipy_on_a_large_cohort():
    # landmark durations are near-continuous (milliseconds) with some ties
    from scipy import stats

    rng = np.random.default_rng(7)
    da = np.round(rng.exponential(60, 40_000), 4)
    db = np.round(rng.exponential(45, 30_000), 4)
    ea, eb = rng.random(da.size) < 0.4, rng.random(db.size) < 0.5
    sf = stats.ecdf(stats.CensoredData(uncensored=da[ea], right=da[~ea])).sf
    ci = sf.confidence_interval(method="log-log")
    curve = kaplan_meier(da, ea)
    assert curve.times == tuple(sf.quantiles)
    assert np.allclose(curve.survival, sf.probabilities, rtol=0, atol=1e-12)
    inner = (np.asarray(curve.survival) < 1) & (np.asarray(curve.survival) > 0)
    assert np.allclose(np.asarray(curve.low)[inner], ci.low.probabilities[inner], rtol=0, atol=1e-12)
    assert np.allclose(np.asarray(curve.high)[inner], ci.high.probabilities[inner], rtol=0, atol=1e-12)
    ref = stats.logrank(stats.CensoredData(uncensored=da[ea], right=da[~ea]),
                        stats.CensoredData(uncensored=db[eb], right=db[~eb]))
    r = logrank(da, ea, db, eb)
    assert r.statistic == pytest.approx(float(ref.statistic) ** 2, rel=1e-9)
    assert r.p_value == pytest.approx(float(ref.pvalue), rel=1e-9, abs=1e-300)
