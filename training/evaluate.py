"""Scoring, threshold tuning and evaluation reports for stage directories."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    roc_auc_score,
)

from stages.head import HeadStage, load_model_stage
from stages.labels import CRISIS
from stages.model_dir import StageCard
from stages.transformer import TransformerStage
from training.calibrate import fit_calibration
from training.tasks import TaskData
from training.thresholds import (
    DEFAULT_TARGET_PRECISION,
    DEFAULT_TARGET_RECALL,
    crisis_threshold,
    support_thresholds,
)


def load_stage(
    model_dir: Path, device: str = "auto", batch_size: int = 64
) -> TransformerStage | HeadStage:
    """The stage for a model directory (a whole model or a head on another's encoder).

    On the backend ``route()`` picks by default: on CPU the int8 graph when it was exported.
    """
    return load_model_stage("eval", model_dir, device=device, batch_size=batch_size, backend="auto")


def probabilities(stage: TransformerStage | HeadStage, texts: list[str]) -> np.ndarray:
    """Class probabilities, one row per text."""
    return np.array(stage.probabilities(texts)) if texts else np.zeros((0, len(stage.card.labels)))


def crisis_scores(
    stage: TransformerStage | HeadStage, texts: list[str], max_windows: int | None = None
) -> np.ndarray:
    """Stage one's crisis probability per text."""
    if not texts:
        return np.zeros(0)
    rows = np.array(stage.probabilities(texts, max_windows=max_windows))
    return rows[:, stage.card.labels.index(CRISIS)]


def auc_against(sw_scores: np.ndarray, negative_scores: np.ndarray) -> float:
    """ROC AUC of r/SuicideWatch scores against negatives' scores, rounded to 4 places."""
    labels = np.r_[np.ones(len(sw_scores)), np.zeros(len(negative_scores))]
    return round(float(roc_auc_score(labels, np.r_[sw_scores, negative_scores])), 4)


def long_post_comparison(
    stage: TransformerStage, slices: dict[str, list[str]], target_recall: float, windows: int = 8
) -> dict[str, dict[str, float]]:
    """Head+tail truncation vs overlapping windows with max pooling.

    Each strategy gets its own threshold, tuned to ``target_recall`` on validation
    r/SuicideWatch posts, so the flag rates compare at equal recall.
    """
    out = {}
    for name, n in (("head_tail", 1), (f"windows_max_{windows}", windows)):
        sc = {k: crisis_scores(stage, v, max_windows=n) for k, v in slices.items()}
        sw = sc["suicidewatch"]
        t = crisis_threshold(sw, np.ones_like(sw), target_recall)
        out[name] = {
            "threshold": round(t, 4),
            "recall_suicidewatch": round(float((sw >= t).mean()), 4),
            "flag_rate_not_stressed": round(float((sc["not_stressed"] >= t).mean()), 4),
            "flag_rate_stressed": round(float((sc["stressed"] >= t).mean()), 4),
            "flag_rate_depression": round(float((sc["depression"] >= t).mean()), 4),
            "roc_auc_suicidewatch_vs_depression": auc_against(sw, sc["depression"]),
        }
    return out


def tune(
    model_dir: Path,
    data: TaskData,
    *,
    target_recall: float = DEFAULT_TARGET_RECALL,
    target_precision: float = DEFAULT_TARGET_PRECISION,
    device: str = "auto",
) -> dict[str, float]:
    """Tune thresholds on validation data and write them into the model's card."""
    stage = load_stage(model_dir, device)
    card = StageCard.load(model_dir)
    if card.task == "crisis":
        positives = data.slices["suicidewatch"]["text"]
        scores = crisis_scores(stage, positives)
        thresholds = {CRISIS: crisis_threshold(scores, np.ones_like(scores), target_recall)}
        card.calibration = calibrate(stage, data, scores)
    else:
        probs = probabilities(stage, data.validation["text"])
        thresholds = support_thresholds(
            probs, np.array(data.validation["label"]), card.labels, target_precision
        )
    card.thresholds = thresholds  # unrounded: rounding up would drop the boundary positive
    card.save(model_dir)
    return card.thresholds


# Negatives the calibrator is fit on: everyday, calm and stressed text, not r/depression (a
# third of its posts state suicidal intent, reports/crisis-demo).
CALIBRATION_NEGATIVES = ("goemotions_validation", "not_stressed", "stressed")
CALIBRATION_MAX_PER_SLICE = 2000


def calibrate(stage: TransformerStage | HeadStage, data: TaskData, sw_scores: np.ndarray) -> Any:
    """Stage one's calibrator, fit on validation r/SuicideWatch posts against negatives."""
    negatives = [
        t
        for name in CALIBRATION_NEGATIVES
        for t in data.slices[name]["text"][:CALIBRATION_MAX_PER_SLICE]
    ]
    scores = np.r_[sw_scores, crisis_scores(stage, negatives)]
    labels = np.r_[np.ones(len(sw_scores)), np.zeros(len(negatives))]
    described = ", ".join(CALIBRATION_NEGATIVES)
    return fit_calibration(
        scores, labels, fitted_on=f"validation r/SuicideWatch posts against {described}"
    )


def expected_calibration_error(
    probs: np.ndarray, gold: np.ndarray, bins: int = 15
) -> tuple[float, list[tuple[float, float, int]]]:
    """ECE of the top-class probability, with (confidence, accuracy, count) per bin."""
    conf, correct = probs.max(1), probs.argmax(1) == gold
    edges = np.linspace(0, 1, bins + 1)
    ece, table = 0.0, []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (conf > lo) & (conf <= hi)
        if mask.any():
            ece += mask.mean() * abs(conf[mask].mean() - correct[mask].mean())
            table.append((float(conf[mask].mean()), float(correct[mask].mean()), int(mask.sum())))
    return float(ece), table


def latency(
    stage: TransformerStage | HeadStage, texts: list[str], n: int = 100
) -> dict[str, float | str]:
    """Median per-message time at batch 1 and throughput at batch 32 (this machine).

    A head is timed with its encoder's pass, as if it ran alone (in routing it shares it).
    """
    sample = (texts * (n // max(len(texts), 1) + 1))[:n]
    forget = stage.encoder.forget if isinstance(stage, HeadStage) else (lambda: None)
    stage.probabilities(sample[:5])
    times = []
    for t in sample:
        forget()
        start = time.perf_counter()
        stage.probabilities([t])
        times.append(time.perf_counter() - start)
    forget()
    start = time.perf_counter()
    for i in range(0, len(sample), 32):
        stage.probabilities(sample[i : i + 32])
    batched = time.perf_counter() - start
    return {
        "batch1_median_ms": round(statistics.median(times) * 1000, 2),
        "batch1_p95_ms": round(float(np.percentile(times, 95)) * 1000, 2),
        "batch32_msgs_per_s": round(len(sample) / batched, 1),
        "device": str(stage.device),
    }
