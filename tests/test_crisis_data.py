"""Stage one's hand-written data: hard negatives never contradict the net or leak into checks."""

from __future__ import annotations

from pathlib import Path

import yaml

from stages.safety_net import PhraseLists, SafetyNet
from training.tasks import figurative_negatives, phrase_positives

TRAINING = Path(__file__).resolve().parent.parent / "training"


def test_figurative_negatives_never_teach_that_safety_net_language_is_safe() -> None:
    net = SafetyNet()
    negatives = figurative_negatives(net)
    assert len(negatives) >= 100
    assert not [t for t in negatives if net.matches(t)]
    raw = yaml.safe_load((TRAINING / "crisis_hard_negatives.yaml").read_text())["sentences"]
    assert "my laptop battery died in the middle of the lecture" in negatives
    assert len(raw) - len(negatives) <= 5  # the net drops only a few; most reach training


def test_held_out_checks_share_no_sentence_with_training_text() -> None:
    checks = yaml.safe_load((TRAINING / "crisis_checks.yaml").read_text())
    held_out = {t.lower() for t in checks["crisis"] + checks["figurative"]}
    assert len(checks["crisis"]) >= 50 and len(checks["figurative"]) >= 20
    training = {t.lower() for t in figurative_negatives() + phrase_positives()}
    assert not held_out & training


def test_net_only_categories_never_become_training_positives() -> None:
    net = SafetyNet()
    lists = net.phrases.model_dump()
    for category in ("abuse", "attempt_in_progress"):
        assert lists["categories"].pop(category)["phrases"]
    without = SafetyNet(PhraseLists.model_validate(lists))
    assert phrase_positives(net) == phrase_positives(without)
