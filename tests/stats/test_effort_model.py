import numpy as np
import pytest
from scipy import linalg

from seamline.stats.effort_model import (
    AdjustedCES,
    CalibrationBin,
    adjusted_ces,
    calibration,
    fit_effort_model,
    predict,
)

FEATURES = (
    "contacts",
    "repeat_contacts",
    "transfers",
    "repeat_info",
    "reauth",
    "channel_switches",
    "journey_events",
)
# true effect on CES (7 = easy): friction lowers the score, channel_switches none
TRUE_COEF = np.array([-0.30, -0.60, -0.40, -0.50, -0.35, 0.0, -0.02])


def _population(n, seed):
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [
            rng.poisson(1.5, n),
            rng.poisson(0.4, n),
            rng.poisson(0.5, n),
            rng.poisson(0.3, n),
            rng.poisson(0.3, n),
            rng.poisson(1.0, n),
            rng.poisson(8.0, n),
        ]
    ).astype(float)
    y_cont = 6.8 + X @ TRUE_COEF + rng.normal(0, 0.5, n)
    y = np.clip(np.round(y_cont), 1, 7)
    return X, y


def test_ridge_hand_computed_single_feature():
    # x = 0,1,2 ; y = 1,3,5 (y = 1 + 2x). Standardised z = x − 1 over sd √(2/3):
    # z = (−1.2247, 0, 1.2247), Σz² = 3, Σz·(y−3) = 2·1.2247·2 = 4.8990
    # b = 4.8990 / (3 + α); α = 1 -> b = 1.22474 ; slope = b / √(2/3) = 1.5
    # intercept = 3 − 1.5·1 = 1.5
    m = fit_effort_model(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]),
                         ["x"], alphas=(1.0,), folds=3)
    assert m.alpha == 1.0 and m.n == 3
    assert m.coef == pytest.approx((1.5,))
    assert m.intercept == pytest.approx(1.5)
    # 3 folds of 1 row = leave-one-out, each fit has z = ±1, Σz² = 2:
    #  drop x=0: train (1,3),(2,5): b = 2/3, slope = b/.5 = 4/3, icpt = 4 − 2 = 2 -> pred 2, err 1
    #  drop x=1: train (0,1),(2,5): b = 4/3, slope = 4/3, icpt = 5/3 -> pred 3, err 0
    #  drop x=2: train (0,1),(1,3): b = 2/3, slope 4/3, icpt = 4/3 -> pred 4, err −1
    # MAE = 2/3, RMSE = √(2/3)
    assert m.cv_mae == pytest.approx(2 / 3)
    assert m.cv_rmse == pytest.approx((2 / 3) ** 0.5)
    assert predict(m, np.array([[0.0], [10.0], [-10.0]])) == pytest.approx([1.5, 7.0, 1.0])


def test_ridge_matches_augmented_least_squares_reference():
    X, y = _population(300, seed=5)
    alpha = 10.0
    m = fit_effort_model(X, y, FEATURES, alphas=(alpha,))
    # reference: ordinary least squares on [Z; √α·I] vs [y − ȳ; 0]
    mu, sd = X.mean(axis=0), X.std(axis=0)
    Z = (X - mu) / sd
    A = np.vstack([Z, np.sqrt(alpha) * np.eye(Z.shape[1])])
    b = np.concatenate([y - y.mean(), np.zeros(Z.shape[1])])
    beta = linalg.lstsq(A, b)[0]
    assert np.asarray(m.coef) == pytest.approx(beta / sd, rel=1e-9)
    assert m.intercept == pytest.approx(y.mean() - (beta / sd) @ mu, rel=1e-9)


def test_recovers_known_relationship():
    X, y = _population(2000, seed=1)
    m = fit_effort_model(X, y, FEATURES)
    coef = np.asarray(m.coef)
    strong = np.abs(TRUE_COEF) >= 0.3
    assert np.all(np.sign(coef[strong]) == np.sign(TRUE_COEF[strong]))
    assert coef[strong] == pytest.approx(TRUE_COEF[strong], abs=0.1)
    assert m.alpha in (0.1, 1.0, 10.0, 100.0)
    # noise sd .5 plus rounding and clipping: MAE well under one CES point
    assert m.cv_mae < 0.6 and m.cv_rmse < 0.75
    assert m.feature_names == FEATURES and m.n == 2000
    p = predict(m, X)
    assert p.min() >= 1.0 and p.max() <= 7.0


def test_adjusted_ces_corrects_biased_response():
    X, y = _population(6000, seed=2)
    true_mean = y.mean()
    # customers with a bad (low-score) journey answer the survey less often
    rng = np.random.default_rng(3)
    answers = rng.random(y.size) < np.where(y >= 6, 0.5, 0.1)
    m = fit_effort_model(X[answers], y[answers], FEATURES)
    adj = adjusted_ces(m, X[answers], y[answers], X[~answers])
    assert adj.n_respondents == answers.sum() and adj.n_nonrespondents == (~answers).sum()
    assert adj.observed_mean == pytest.approx(y[answers].mean())
    naive_error = abs(adj.observed_mean - true_mean)
    assert naive_error > 0.2
    assert abs(adj.adjusted_mean - true_mean) < naive_error / 2


def test_adjusted_ces_hand_computed():
    # model y = 1 + 2x (fit exactly on 3 points with tiny alpha)
    m = fit_effort_model(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]),
                         ["x"], alphas=(1e-12,), folds=3)
    # respondents answered 2 and 4; non-respondents x = 0.5, 1.5 -> predicted 2, 4 ... and 3
    adj = adjusted_ces(m, np.array([[0.0], [0.0]]), np.array([2.0, 4.0]),
                       np.array([[0.5], [1.5], [1.0]]))
    # adjusted = (2 + 4 + 2 + 4 + 3) / 5 = 3
    assert adj.observed_mean == 3.0
    assert adj.predicted_nonrespondent_mean == pytest.approx(3.0)
    assert adj.adjusted_mean == pytest.approx(3.0)
    no_non = adjusted_ces(m, np.array([[1.0]]), np.array([6.0]), np.empty((0, 1)))
    assert no_non == AdjustedCES(6.0, None, 6.0, 1, 0)


def test_calibration_bins_hand_computed():
    y_pred = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    y_true = np.array([1.0, 1.0, 3.0, 5.0, 6.0, 7.0])
    # 3 quantile bins of 2 by prediction: (1,2)->(1,1) ; (3,4)->(3,5) ; (5,6)->(6,7)
    assert calibration(y_true, y_pred, bins=3) == [
        CalibrationBin(1.5, 1.0, 2),
        CalibrationBin(3.5, 4.0, 2),
        CalibrationBin(5.5, 6.5, 2),
    ]
    # unsorted input and fewer rows than bins
    assert calibration([7.0, 1.0], [6.0, 2.0], bins=5) == [(2.0, 1.0, 1), (6.0, 7.0, 1)]
    assert calibration([], [], bins=5) == []


def test_calibration_of_fitted_model_is_close():
    X, y = _population(3000, seed=4)
    m = fit_effort_model(X, y, FEATURES)
    for b in calibration(y, predict(m, X)):
        assert abs(b.pred_mean - b.obs_mean) < 0.25


def test_empty_and_tiny_inputs():
    empty = fit_effort_model(np.empty((0, 2)), np.empty(0), ["a", "b"])
    assert empty.coef is None and empty.intercept is None and empty.n == 0
    assert np.isnan(predict(empty, np.ones((3, 2)))).all()
    adj = adjusted_ces(empty, np.empty((0, 2)), np.empty(0), np.empty((0, 2)))
    assert adj == AdjustedCES(None, None, None, 0, 0)
    one = fit_effort_model(np.array([[1.0, 2.0]]), np.array([5.0]), ["a", "b"])
    assert one.coef == (0.0, 0.0) and one.intercept == 5.0 and one.cv_mae is None
    # a constant column gets coefficient 0 instead of a division by zero
    const = fit_effort_model(np.array([[1.0, 0], [1.0, 1], [1.0, 2], [1.0, 3]]),
                             np.array([2.0, 3, 4, 5]), ["c", "x"], alphas=(0.1,), folds=2)
    assert const.coef[0] == 0.0 and const.coef[1] > 0.8
    with pytest.raises(ValueError):
        fit_effort_model(np.ones((3, 2)), np.ones(3), ["only_one_name"])
