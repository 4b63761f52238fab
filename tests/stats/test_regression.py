import numpy as np
import pandas as pd
import pytest
from scipy import stats

from seamline.stats.regression import (
    Regression,
    SourceSeries,
    change_points,
    detect_regressions,
    series_from_frame,
)
from seamline.stats.regression import _kruskal_p, _mann_whitney_greater_p, _noise_scale, _optimal_partition

T0 = pd.Timestamp("2024-03-01", tz="UTC")
BASE = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]  # median 12.5
HIGH = [40.0, 41.0, 42.0, 43.0, 44.0, 45.0]  # median 42.5


def _hours(n):
    return pd.date_range(T0, periods=n, freq="h")


def _series(p95, counts=None):
    p95 = np.asarray(p95, dtype=float)
    counts = np.full(p95.size, 30) if counts is None else np.asarray(counts)
    return SourceSeries(_hours(p95.size).to_numpy(), p95, counts)


def simulate(seed, days=10, step_at=None, factor=4.0, amp=0.0, lo=20, hi=50, base=60.0):
    """Hourly p95 of lognormal lags (sigma 1) with lo..hi events per hour, an
    optional daily cycle exp(amp·sin(2πh/24)) and an optional step x factor."""
    rng = np.random.default_rng(seed)
    n = days * 24
    hours = _hours(n)
    counts = rng.integers(lo, hi + 1, size=n)
    cycle = np.exp(amp * np.sin(2 * np.pi * hours.hour.to_numpy() / 24))
    level = base * cycle
    if step_at is not None:
        level = level * np.where(np.arange(n) >= step_at, factor, 1.0)
    p95 = np.array([np.quantile(m * rng.lognormal(0, 1, c), 0.95) for m, c in zip(level, counts)])
    return SourceSeries(hours.to_numpy(), p95, counts)


def _onset_hour(r):
    return (r.onset - T0) / pd.Timedelta("1h")


def test_change_points_hand_computed():
    # a clean step is split exactly where it happens
    z = np.log(np.array(BASE * 2 + HIGH * 2))
    assert change_points(z, min_size=6) == [12]
    assert change_points(np.zeros(40), min_size=6) == []
    assert change_points(z[:11], min_size=6) == []  # too short for two segments
    # min_size is respected: a 3-hour blip cannot be its own segment
    blip = np.log(np.array(BASE * 3 + [90.0] * 3 + BASE * 3))
    bounds = [0, *change_points(blip), blip.size]
    assert all(b - a >= 6 for a, b in zip(bounds[:-1], bounds[1:]))


def _brute_force_partition(x, min_size, pen, sigma2):
    """Optimal partitioning by plain recursion over every last change (no pruning)."""
    n = x.size
    best = {0: -pen}
    last = {}
    for t in range(min_size, n + 1):
        options = [(best[s] + float(((x[s:t] - x[s:t].mean()) ** 2).sum()) / sigma2 + pen, s)
                   for s in range(0, t - min_size + 1) if s in best]
        if options:
            best[t], last[t] = min(options)
    cps, t = [], n
    while t > 0:
        t = last[t]
        if t > 0:
            cps.append(t)
    return sorted(cps), best[n]


@pytest.mark.parametrize("seed", range(40))
def test_pelt_pruning_finds_the_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(12, 160))
    min_size = int(rng.integers(1, 9))
    levels = rng.normal(0, 2, size=6)
    steps = np.sort(rng.integers(0, n, size=5))
    x = rng.normal(0, 1, size=n) + levels[np.searchsorted(steps, np.arange(n))]
    if seed % 5 == 0:  # exact ties: integer-valued plateaus
        x = np.round(x)
    if n < 2 * min_size:
        return
    sigma2 = _noise_scale(x) ** 2
    pen = float(rng.choice([0.5, 2.0, 4 * np.log(n)]))
    expected, objective = _brute_force_partition(x, min_size, pen, sigma2)
    pruned = _optimal_partition(x, min_size, pen, sigma2, prune=True)
    unpruned = _optimal_partition(x, min_size, pen, sigma2, prune=False)

    def cost(cps):
        b = [0, *cps, n]
        return sum(float(((x[a:c] - x[a:c].mean()) ** 2).sum()) / sigma2 + pen for a, c in zip(b[:-1], b[1:])) - pen

    assert cost(pruned) == pytest.approx(objective, rel=1e-9, abs=1e-9)
    assert pruned == unpruned
    assert pruned == expected or cost(expected) == pytest.approx(cost(pruned), rel=1e-12)


@pytest.mark.parametrize("seed", range(30))
def test_rank_tests_equal_scipy(seed):
    rng = np.random.default_rng(seed)
    n1, n2 = (int(v) for v in rng.integers(1, 60, size=2))
    if seed % 3 == 0:  # the exact branch: a small sample, no ties
        n1 = int(rng.integers(1, 9))
    x, y = rng.normal(0.3, 1, n1), rng.normal(0, 1, n2)
    if seed % 2:  # ties
        x, y = np.round(x, 1), np.round(y, 1)
    want = stats.mannwhitneyu(x, y, alternative="greater").pvalue
    assert _mann_whitney_greater_p(x, y) == pytest.approx(want, rel=1e-12, abs=1e-300)
    groups = [np.round(rng.normal(i % 3, 1, int(rng.integers(2, 30))), seed % 3) for i in range(int(rng.integers(2, 25)))]
    assert _kruskal_p(groups) == pytest.approx(stats.kruskal(*groups).pvalue, rel=1e-12, abs=1e-300)
    with pytest.raises(ValueError):
        _kruskal_p([np.ones(3), np.ones(4)])


def test_single_step_hand_computed():
    # 6 baseline hours (10..15 s) then 6 hours at 40..45 s.
    # Mann–Whitney U (after > baseline): every after value beats every baseline
    # value, U = 36, exact one-sided p = 1/C(12,6) = 1/924 = 0.0010823.
    # One candidate, so BH leaves p unchanged. Medians 12.5 and 42.5 -> ratio 3.4.
    [r] = detect_regressions({"crm": _series(BASE + HIGH)})
    assert r == Regression(
        source="crm",
        onset=T0 + pd.Timedelta(hours=6),
        baseline_p95_s=12.5,
        after_p95_s=42.5,
        ratio=3.4,
        p_value=pytest.approx(1 / 924),
        recovered=False,
        recovered_at=None,
    )


def test_step_and_recovery():
    # 12 h baseline, 12 h at ~3.4x, 12 h back at baseline
    [r] = detect_regressions({"web": _series(BASE * 2 + HIGH * 2 + BASE * 2)})
    assert r.onset == T0 + pd.Timedelta(hours=12)
    assert (r.baseline_p95_s, r.after_p95_s) == (12.5, 42.5)
    ref = stats.mannwhitneyu(np.log(HIGH * 2), np.log(BASE * 2), alternative="greater")
    assert r.p_value == pytest.approx(ref.pvalue)
    assert r.recovered is True and r.recovered_at == T0 + pd.Timedelta(hours=24)


def test_partial_recovery_is_not_recovered():
    # back to ~2x baseline (> 1.2x): not recovered
    mid = [25.0, 26.0, 27.0, 28.0, 24.0, 23.0]
    [r, *rest] = detect_regressions({"web": _series(BASE * 2 + HIGH * 2 + mid * 2)})
    assert not rest and r.recovered is False and r.recovered_at is None


def test_ratio_and_significance_gates():
    # a clean but small step (x1.2) is significant yet below min_ratio
    small = [12.0, 13.2, 14.4, 15.6, 16.8, 18.0]
    assert detect_regressions({"a": _series(BASE * 2 + small * 2)}) == []
    assert detect_regressions({"a": _series(BASE * 2 + small * 2)}, min_ratio=1.1) != []
    # a step down is never a regression
    assert detect_regressions({"a": _series(HIGH * 2 + BASE * 2)}) == []


def test_second_step_compares_with_segment_right_before():
    # 10..15 -> x3.4 -> x3.4 again: two regressions, the second against the first's level
    higher = [h * 3.4 for h in HIGH]
    found = detect_regressions({"a": _series(BASE * 2 + HIGH * 2 + higher * 2)})
    assert [_onset_hour(r) for r in found] == [12, 24]
    assert found[1].baseline_p95_s == 42.5
    assert found[1].ratio == pytest.approx(3.4)


def test_low_count_hours_are_ignored():
    # hours with < 5 events and a huge p95 are dropped before the search;
    # the step onset is the first *kept* hour of the after segment
    p95 = BASE * 2 + [900.0] * 3 + BASE * 2
    counts = [30] * 12 + [2] * 3 + [30] * 12
    assert detect_regressions({"a": _series(p95, counts)}) == []
    # and missing/zero p95 values are ignored too
    p95 = BASE * 2 + [np.nan, 0.0] + HIGH * 2
    [r] = detect_regressions({"a": _series(p95, [30] * 26)})
    assert r.onset == T0 + pd.Timedelta(hours=14)


def test_empty_and_short_inputs():
    assert detect_regressions({}) == []
    assert detect_regressions({"a": _series([])}) == []
    assert detect_regressions({"a": _series(BASE + HIGH[:5])}) == []  # 11 < 2 x 6 hours
    with pytest.raises(ValueError):
        detect_regressions({"a": SourceSeries(_hours(3).to_numpy(), [1.0, 2.0], [9, 9, 9])})


def test_accepts_timestamps_with_gaps_and_unsorted():
    s = _series(BASE * 2 + HIGH * 2)
    hours = list(_hours(24))
    hours[12:] = [h + pd.Timedelta(hours=5) for h in hours[12:]]  # 5 h outage
    perm = np.random.default_rng(0).permutation(24)
    shuffled = SourceSeries(
        [hours[i] for i in perm], np.asarray(s.p95)[perm], np.asarray(s.counts)[perm]
    )
    [r] = detect_regressions({"a": shuffled})
    assert r.onset == T0 + pd.Timedelta(hours=17)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("amp", [0.0, 1.0])
def test_planted_step_found_within_two_hours(seed, amp):
    step_at = 70 + 23 * seed  # onsets from day 3 to day 7, at varying hours of day
    s = simulate(1000 + seed, step_at=step_at, amp=amp)
    found = detect_regressions({"src": s})
    assert len(found) == 1
    r = found[0]
    assert abs(_onset_hour(r) - step_at) <= 2
    assert r.ratio == pytest.approx(4.0, rel=0.3)
    assert r.p_value < 1e-6 and r.recovered is False


def test_planted_step_among_stationary_sources():
    # BH across sources: the stepped source is found, the others stay quiet
    series = {f"s{k}": simulate(200 + k) for k in range(4)}
    series["stepped"] = simulate(299, step_at=150, amp=0.8)
    [r] = detect_regressions(series)
    assert r.source == "stepped" and abs(_onset_hour(r) - 150) <= 2


def test_transient_regression_recovers():
    s = simulate(77, days=6)
    p95 = np.array(s.p95)
    p95[60:84] *= 4.0  # one bad day
    [r] = detect_regressions({"a": SourceSeries(s.hours, p95, s.counts)})
    assert abs(_onset_hour(r) - 60) <= 2
    assert r.recovered is True and abs((r.recovered_at - T0) / pd.Timedelta("1h") - 84) <= 2


@pytest.mark.parametrize("amp", [0.0, 1.5])
def test_no_false_alarms_on_stationary_series(amp):
    # 30 seeds x 5 sources; amp 1.5 is a strong daily cycle (peak/trough = e³ ≈ 20x)
    for seed in range(30):
        series = {f"s{k}": simulate(10_000 + 10 * seed + k, amp=amp) for k in range(5)}
        assert detect_regressions(series) == [], (amp, seed)


def test_no_false_alarms_with_few_events_per_hour():
    # 5-8 events per hour: each hourly p95 is close to a sample maximum, very noisy
    for seed in range(10):
        series = {f"s{k}": simulate(20_000 + 10 * seed + k, amp=0.7, lo=5, hi=8) for k in range(5)}
        assert detect_regressions(series) == [], seed


def test_series_from_frame():
    rows = [
        {"source": "b", "hour": T0 + pd.Timedelta(hours=i), "p95": v, "count": 30}
        for i, v in enumerate(BASE + HIGH)
    ] + [{"source": "a", "hour": T0, "p95": 1.0, "count": 30}]
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=1)
    series = series_from_frame(frame)
    assert sorted(series) == ["a", "b"]
    assert list(series["b"].p95) == BASE + HIGH
    [r] = detect_regressions(series)
    assert r.source == "b" and r.onset == T0 + pd.Timedelta(hours=6)
