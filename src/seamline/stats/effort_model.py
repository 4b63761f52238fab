"""Predicted customer effort (CES 1..7) for customers who did not answer a survey.

A standardised ridge regression from journey features (contacts,
repeat_contacts, transfers, repeat_info, reauth, channel_switches,
journey_events, ... — the functions are generic) to the CES answer, with the
penalty chosen by k-fold cross-validation. Predictions are clipped to [1, 7].

``adjusted_ces`` corrects the respondent-only mean for non-response: the
average over everyone of the observed answer (respondents) or the prediction
(non-respondents).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import linalg

__all__ = [
    "AdjustedCES",
    "CalibrationBin",
    "EffortModel",
    "adjusted_ces",
    "calibration",
    "fit_effort_model",
    "predict",
]

CES_MIN, CES_MAX = 1.0, 7.0


@dataclass(frozen=True)
class EffortModel:
    """A fitted model; ``coef``/``intercept`` are on the ORIGINAL feature scale
    (prediction = clip(X @ coef + intercept, 1, 7)). ``cv_mae``/``cv_rmse`` are
    the cross-validated errors of the chosen ``alpha`` (None with < 2 rows).
    All fitted fields are None when fitted on no rows."""

    coef: tuple[float, ...] | None
    intercept: float | None
    alpha: float | None
    cv_mae: float | None
    cv_rmse: float | None
    feature_names: tuple[str, ...]
    n: int


@dataclass(frozen=True)
class AdjustedCES:
    observed_mean: float | None
    predicted_nonrespondent_mean: float | None
    adjusted_mean: float | None
    n_respondents: int
    n_nonrespondents: int


class CalibrationBin(NamedTuple):
    pred_mean: float
    obs_mean: float
    n: int


def _as_2d(X: np.ndarray, k: int | None = None) -> np.ndarray:
    x = np.asarray(X, dtype=float)
    if x.ndim == 1:
        x = x.reshape(-1, 1) if k in (None, 1) else x.reshape(-1, k)
    if x.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {x.shape}")
    if k is not None and x.shape[1] != k:
        raise ValueError(f"X has {x.shape[1]} columns, model has {k}")
    return x


def _ridge(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Ridge on standardised columns, returned on the original scale.

    Minimises ||yc − Zb||² + alpha·||b||² with Z the z-scored X (population sd)
    and yc the centred y; constant columns get coefficient 0.
    """
    return _ridge_path(X, y, (alpha,))[0]


def _ridge_path(X: np.ndarray, y: np.ndarray, alphas: Sequence[float]) -> list[tuple[np.ndarray, float]]:
    """``_ridge`` for each alpha, standardising X once."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    varying = scale > 0
    y_mean = float(y.mean())
    if varying.any():
        Z = (X[:, varying] - mean[varying]) / scale[varying]
        gram, rhs = Z.T @ Z, Z.T @ (y - y_mean)
    out = []
    for alpha in alphas:
        coef = np.zeros(X.shape[1])
        if varying.any():
            b = linalg.solve(gram + alpha * np.eye(gram.shape[0]), rhs, assume_a="pos")
            coef[varying] = b / scale[varying]
        out.append((coef, y_mean - float(mean @ coef)))
    return out


def _predict(X: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    return np.clip(X @ coef + intercept, CES_MIN, CES_MAX)


def fit_effort_model(
    X: np.ndarray,
    y: np.ndarray,
    feature_names: Sequence[str],
    alphas: Sequence[float] = (0.1, 1.0, 10.0, 100.0),
    folds: int = 5,
    seed: int = 0,
) -> EffortModel:
    """Fit the ridge model; ``alpha`` minimises the k-fold CV RMSE (of clipped
    predictions; ties go to the larger alpha). Rows with a NaN are dropped.
    ``folds`` is reduced to n when n < folds; the final model is refit on all
    rows."""
    names = tuple(feature_names)
    x = _as_2d(X, len(names))
    t = np.asarray(y, dtype=float).ravel()
    if x.shape[0] != t.size:
        raise ValueError(f"X has {x.shape[0]} rows, y has {t.size}")
    ok = np.isfinite(t) & np.isfinite(x).all(axis=1)
    x, t = x[ok], t[ok]
    n = int(t.size)
    if n == 0:
        return EffortModel(None, None, None, None, None, names, 0)
    if not alphas:
        raise ValueError("alphas must not be empty")
    k = min(int(folds), n)
    if k < 2:
        alpha = float(max(alphas))
        coef, intercept = _ridge(x, t, alpha)
        return EffortModel(tuple(coef.tolist()), intercept, alpha, None, None, names, n)

    order = np.random.default_rng(seed).permutation(n)
    fold_of = np.empty(n, dtype=int)
    fold_of[order] = np.arange(n) % k
    preds = np.empty((len(alphas), n))
    for f in range(k):
        test = fold_of == f
        for i, (coef, intercept) in enumerate(_ridge_path(x[~test], t[~test], [float(a) for a in alphas])):
            preds[i, test] = _predict(x[test], coef, intercept)
    best: tuple[float, float, float, float] | None = None  # (rmse, -alpha, alpha, mae)
    for alpha, pred in zip(alphas, preds):
        err = pred - t
        rmse = math.sqrt(float(np.mean(err**2)))
        mae = float(np.mean(np.abs(err)))
        cand = (rmse, -float(alpha), float(alpha), mae)
        if best is None or cand[:2] < best[:2]:
            best = cand
    assert best is not None
    rmse, _, alpha, mae = best
    coef, intercept = _ridge(x, t, alpha)
    return EffortModel(tuple(coef.tolist()), intercept, alpha, mae, rmse, names, n)


def predict(model: EffortModel, X: np.ndarray) -> np.ndarray:
    """Predicted CES in [1, 7] per row of ``X`` (NaN for every row if the model
    was fitted on no data, and for rows with a NaN feature)."""
    x = _as_2d(X, len(model.feature_names))
    if model.coef is None or model.intercept is None:
        return np.full(x.shape[0], np.nan)
    return _predict(x, np.asarray(model.coef), model.intercept)


def _mean(a: np.ndarray) -> float | None:
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else None


def adjusted_ces(
    model: EffortModel,
    X_respondents: np.ndarray,
    y: np.ndarray,
    X_nonrespondents: np.ndarray,
) -> AdjustedCES:
    """Non-response-adjusted CES mean.

    adjusted = (Σ observed y + Σ predicted y of non-respondents) / (n_r + n_nr).
    ``X_respondents`` is accepted for symmetry and validated, the observed
    answers are used as they are. NaN answers/predictions are left out.
    """
    k = len(model.feature_names)
    _as_2d(X_respondents, k)
    obs = np.asarray(y, dtype=float).ravel()
    obs = obs[np.isfinite(obs)]
    pred = predict(model, X_nonrespondents) if np.size(X_nonrespondents) else np.array([])
    pred = pred[np.isfinite(pred)]
    n_r, n_nr = int(obs.size), int(pred.size)
    total = n_r + n_nr
    adjusted = (float(obs.sum()) + float(pred.sum())) / total if total else None
    return AdjustedCES(_mean(obs), _mean(pred), adjusted, n_r, n_nr)


def calibration(
    y_true: np.ndarray, y_pred: np.ndarray, bins: int = 5
) -> list[CalibrationBin]:
    """Observed vs predicted mean per prediction-quantile bin.

    Rows are sorted by prediction (stable) and cut into ``bins`` groups of
    (nearly) equal size — the prediction quintiles by default; empty bins are
    dropped, so fewer than ``bins`` come back when there are fewer rows.
    """
    t = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_pred, dtype=float).ravel()
    if t.size != p.size:
        raise ValueError(f"y_true has {t.size} values, y_pred has {p.size}")
    ok = np.isfinite(t) & np.isfinite(p)
    t, p = t[ok], p[ok]
    if bins < 1:
        raise ValueError("bins must be >= 1")
    order = np.argsort(p, kind="stable")
    out: list[CalibrationBin] = []
    for chunk in np.array_split(order, bins):
        if chunk.size:
            out.append(
                CalibrationBin(float(p[chunk].mean()), float(t[chunk].mean()), int(chunk.size))
            )
    return out
