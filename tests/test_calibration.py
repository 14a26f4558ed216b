"""Stage one's calibrator: fit on validation scores, kept in the card, applied by the stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_models import tiny_stage

from stages.calibration import Calibration
from stages.model_dir import StageCard
from stages.transformer import TransformerStage
from training.calibrate import fit_calibration, reliability


def _overconfident(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Scores of a classifier that is far too sure of itself (both classes near 0 and 1)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.2).astype(float)
    # Classes N(+1, 1) and N(-1, 1): balanced log-odds 2x; the scores say 8x.
    logits = rng.normal(np.where(labels == 1, 1.0, -1.0), 1.0) * 8
    return 1 / (1 + np.exp(-logits)), labels


def test_calibration_keeps_the_order_and_lowers_the_error() -> None:
    scores, labels = _overconfident()
    calibration = fit_calibration(scores, labels, fitted_on="synthetic")
    risk = np.array([calibration(float(s)) for s in scores])
    order = np.argsort(scores)
    assert np.all(np.diff(risk[order]) >= 0)  # monotonic: the ranking is untouched
    raw_ece, _ = reliability(scores, labels)
    assert calibration.ece is not None and calibration.ece < raw_ece / 2
    assert calibration.slope == pytest.approx(0.25, abs=0.05)  # undoes the x4


def test_calibration_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both crisis and other"):
        fit_calibration(np.array([0.1, 0.9]), np.array([1.0, 1.0]), fitted_on="x")


def test_the_card_keeps_the_calibrator_and_the_stage_reports_calibrated_risk(
    tmp_path: Path,
) -> None:
    path = tiny_stage(tmp_path / "crisis", "crisis", thresholds={"crisis": 0.5}, spread=30.0)
    texts = ["the bus was late", "i want to go home", "thanks a lot"]
    raw = TransformerStage("crisis", path).probabilities(texts)
    card = StageCard.load(path)
    card.calibration = Calibration(slope=2.0, intercept=-1.0, fitted_on="test", ece=0.01)
    card.save(path)
    loaded = StageCard.load(path)
    assert loaded.calibration == card.calibration  # saved and loaded with the model
    results = TransformerStage("crisis", path).predict(texts)
    for row, result in zip(raw, results, strict=True):
        assert result.scores["crisis"] == pytest.approx(loaded.risk(row[1]))
        assert result.threshold == pytest.approx(loaded.risk(0.5))
        assert (result.label == "crisis") == (row[1] >= 0.5)  # flags agree on both scales
