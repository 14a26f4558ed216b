"""Threshold tuning on validation data; never on a test split."""

from __future__ import annotations

import numpy as np

THRESHOLD_MARGIN = 1e-4
# Stage one's threshold keeps this share of validation r/SuicideWatch posts.
DEFAULT_TARGET_RECALL = 0.97
# Stage two's per-class thresholds reach this precision.
DEFAULT_TARGET_PRECISION = 0.5


def crisis_threshold(scores: np.ndarray, positive: np.ndarray, target_recall: float) -> float:
    """Just below the highest threshold whose recall on the positives reaches ``target_recall``."""
    pos = np.sort(scores[positive.astype(bool)])
    if pos.size == 0:
        raise ValueError("no positive examples to tune the crisis threshold on")
    # Flag score >= t. Keeping the k highest positives needs t <= the k-th highest score.
    keep = int(np.ceil(target_recall * pos.size))
    edge = float(pos[pos.size - keep])
    # Not exactly on that positive's score: another backend computes it a few 1e-7 lower
    # (ONNX fp32 vs PyTorch) and would miss it. A margin, never past the next positive down.
    below = float(pos[pos.size - keep - 1]) if keep < pos.size else 0.0
    return edge - min(THRESHOLD_MARGIN, (edge - below) / 2)


def support_thresholds(
    probs: np.ndarray, gold: np.ndarray, labels: list[str], target_precision: float
) -> dict[str, float]:
    """Per class, the lowest top-probability at which its predictions reach the target precision.

    The lowest such threshold sends as few messages as possible to humans as "low confidence".

    A class that never reaches the target gets the threshold with the best precision over
    at least a tenth of its predictions.
    """
    predicted = probs.argmax(axis=1)
    top = probs.max(axis=1)
    out: dict[str, float] = {}
    for k, label in enumerate(labels):
        mask = predicted == k
        if not mask.any():
            out[label] = 0.0
            continue
        order = np.argsort(-top[mask])
        conf, right = top[mask][order], (gold[mask][order] == k)
        precision = np.cumsum(right) / np.arange(1, right.size + 1)
        ok = np.nonzero(precision >= target_precision)[0]
        if ok.size:
            out[label] = float(conf[ok.max()])
        else:
            floor = max(1, right.size // 10)
            out[label] = float(conf[floor - 1 + int(np.argmax(precision[floor - 1 :]))])
    return out
