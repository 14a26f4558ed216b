"""Fit stage one's calibrator (``stages.calibration``) and measure how well it calibrates."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from stages.calibration import Calibration, logit

BINS = 10


def _balanced_weights(labels: np.ndarray) -> np.ndarray:
    """Weights giving each class half the mass."""
    pos = labels.astype(bool)
    weights = np.empty(len(labels))
    weights[pos] = 0.5 / max(pos.sum(), 1)
    weights[~pos] = 0.5 / max((~pos).sum(), 1)
    return weights


def _fit(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    features = np.array([[logit(float(s))] for s in scores])
    model = LogisticRegression(C=1e4, max_iter=1000)
    model.fit(features, labels, sample_weight=_balanced_weights(labels) * len(labels))
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def reliability(
    risk: np.ndarray, labels: np.ndarray, bins: int = BINS
) -> tuple[float, list[tuple[float, float, float]]]:
    """Class-balanced ECE, with (mean risk, share positive, weight) per occupied bin."""
    weights = _balanced_weights(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(risk, edges[1:-1]), 0, bins - 1)
    ece, table = 0.0, []
    for b in range(bins):
        mask = index == b
        mass = float(weights[mask].sum())
        if mass == 0:
            continue
        mean_risk = float(np.average(risk[mask], weights=weights[mask]))
        observed = float(np.average(labels[mask], weights=weights[mask]))
        ece += mass * abs(mean_risk - observed)
        table.append((mean_risk, observed, mass))
    return float(ece), table


def fit_calibration(
    scores: np.ndarray, labels: np.ndarray, *, fitted_on: str, seed: int = 13
) -> Calibration:
    """A sigmoid calibrator on all the data, with its ECE measured out of fold (two folds)."""
    if labels.min() == labels.max():
        raise ValueError("calibration needs both crisis and other examples")
    rng = np.random.default_rng(seed)
    fold = rng.permutation(len(scores)) % 2
    out_of_fold = np.empty(len(scores))
    for k in (0, 1):
        slope, intercept = _fit(scores[fold != k], labels[fold != k])
        part = Calibration(slope=max(slope, 1e-6), intercept=intercept)
        out_of_fold[fold == k] = [part(float(s)) for s in scores[fold == k]]
    ece, _ = reliability(out_of_fold, labels)
    slope, intercept = _fit(scores, labels)
    return Calibration(
        slope=max(slope, 1e-6), intercept=intercept, fitted_on=fitted_on, ece=round(ece, 4)
    )
