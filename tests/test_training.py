"""Really train tiny models for a few steps; the written directory, thresholds and reports agree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file
from tiny_models import tiny_stage
from transformers import AutoModelForSequenceClassification

from stages.model_dir import StageCard
from stages.safety_net import SafetyNet
from training.classification_report import classification_report
from training.config import TrainConfig
from training.crisis_report import auc_by_crisis_language, crisis_report
from training.data import data_dir
from training.evaluate import crisis_scores, load_stage, tune
from training.finetune import train
from training.mapping import load_mapping
from training.tasks import load_task, phrase_positives
from training.thresholds import crisis_threshold, support_thresholds
from triage import Triage

pytestmark = pytest.mark.slow


def test_mapping_places_every_emotion_and_rules_differ() -> None:
    mapping = load_mapping()
    assert mapping.class_of("admiration") == "positive_support"
    assert mapping.class_of("approval") == "neutral"
    # gratitude (15) + grief (16): most severe wins -> crisis; first listed -> positive
    assert mapping.label([15, 16], "most_severe") == "crisis_support"
    assert mapping.label([15, 16], "first_listed") == "positive_support"


def test_crisis_threshold_reaches_target_recall() -> None:
    scores = np.linspace(0.01, 1.0, 100)
    t = crisis_threshold(scores, np.ones(100), 0.97)
    assert (scores >= t).mean() >= 0.97 and (scores >= t + 0.011).mean() < 0.97
    edge = np.sort(scores)[3]  # the lowest of the 97 kept: a hair above the threshold
    assert 0 < edge - t < 1.01e-4


def test_support_thresholds_reach_target_precision() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=400)
    gold = np.where(rng.random(400) < probs.max(1), probs.argmax(1), (probs.argmax(1) + 1) % 3)
    thresholds = support_thresholds(probs, gold, ["a", "b", "c"], 0.8)
    for k, name in enumerate("abc"):
        keep = (probs.argmax(1) == k) & (probs.max(1) >= thresholds[name])
        assert (gold[keep] == k).mean() >= 0.8


def test_crisis_data_is_crisis_specific() -> None:
    data = load_task("crisis", data_dir(), goemotions_train=500)
    sources = {(s, y) for s, y in zip(data.train["source"], data.train["label"], strict=True)}
    assert ("suicidewatch", 1) in sources and ("depression", 0) in sources
    assert ("dair_sad", 0) in sources
    assert data.curated is not None  # hand-written: kept whole when a recipe subsamples
    curated = {(s, y) for s, y in zip(data.curated["source"], data.curated["label"], strict=True)}
    assert curated == {
        ("phrases", 1),
        ("carriers", 0),
        ("figurative", 0),
        ("warning_signs", 1),
        ("look_alikes", 0),
    }
    assert ("goemotions", 1) not in sources  # sad emotions are never crisis labels
    assert {"suicidewatch", "not_stressed", "depression"} <= set(data.slices)
    assert len(phrase_positives()) > 100


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_stage(tmp_path_factory.mktemp("base") / "base", "crisis")


def _cfg(task: str, out: Path, base: Path) -> TrainConfig:
    return TrainConfig(
        task=task,
        output_dir=out,
        base=str(base),
        max_length=32,
        epochs=1,
        batch_size=16,
        max_train_examples=48,
        max_eval_examples=32,
        goemotions_train=300,
    )


def test_train_crisis_stage_then_tune_and_report(tmp_path: Path, tiny_base: Path) -> None:
    data = load_task("crisis", data_dir(), goemotions_train=300)
    cfg = _cfg("crisis", tmp_path / "crisis", tiny_base).model_copy(update={"max_windows": 4})
    out = train(cfg, data)
    thresholds = tune(out, data, target_recall=0.95)
    card = StageCard.load(out)
    assert card.task == "crisis" and card.thresholds == thresholds and card.max_windows == 4
    assert data.curated is not None
    assert card.metrics["train_examples"] == 48 + len(data.curated)  # subsample + curated
    assert yaml.safe_load((out / "triage_stage.yaml").read_text())["max_length"] == 32
    sw = data.slices["suicidewatch"]["text"]
    recall = (crisis_scores(load_stage(out), sw) >= thresholds["crisis"]).mean()
    assert recall >= 0.95
    assert card.calibration is not None and card.calibration.slope > 0  # tune fits it
    metrics = crisis_report(out, data, tmp_path / "report", root=data_dir())
    assert metrics["recall_suicidewatch_validation_model"] == pytest.approx(recall, abs=1e-4)
    saved = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert saved["threshold"] == thresholds["crisis"]
    assert (tmp_path / "report" / "pr_curve.png").stat().st_size > 1000
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "Remaining misses" in summary
    calm = round(saved["flag_rate_not_stressed_validation"] * saved["examples"]["not_stressed"])
    assert f"not-stressed validation posts: {calm} flagged by the model" in summary
    assert 0 <= saved["flagged_naming_death_goemotions_test"] <= 1
    split = saved["depression_posts_by_crisis_language"]
    assert 0 < split["share_with_crisis_language"] < 1  # r/depression posts do state intent
    assert split["roc_auc_ceiling_at_chance_on_crisis_language"] == pytest.approx(
        1 - split["share_with_crisis_language"] / 2, abs=1e-4
    )
    assert "what the subreddit labels allow" in summary
    checks = saved["short_message_checks"]
    assert checks["crisis"]["messages"] >= 50 and 0 <= checks["figurative"]["flagged_model"] <= 1
    tiers = saved["risk_tiers"]  # under the shipped policy, with frames
    assert {"Supportive", "Indicator", "at risk"} <= set(tiers["users"])
    assert tiers["users"]["at risk"]["users"] == 145
    assert 0 <= tiers["auc_at_risk_vs_supportive"] <= 1
    held = tiers["users_held_out"]  # the half `supportive_weight` never trains on
    assert held["users"] == 125 and 0 <= held["auc_at_risk_vs_supportive"] <= 1
    assert f"AUC {held['auc_at_risk_vs_supportive']}" in summary
    assert "checks: attempts" in tiers["sets"] and "checks: recovery" in tiers["sets"]
    assert "C-SSRS at-risk users urgent" in summary and "Calibration" in summary
    assert (tmp_path / "report" / "reliability.png").stat().st_size > 1000


def test_auc_is_split_by_the_depression_posts_that_state_crisis() -> None:
    split = auc_by_crisis_language(
        np.array([0.9, 0.8]),
        ["i want to kill myself", "what a nice day"],
        np.array([0.85, 0.1]),
        SafetyNet(),
    )
    assert split == {
        "share_with_crisis_language": 0.5,
        "roc_auc_vs_depression_with_crisis_language": 0.5,
        "roc_auc_vs_depression_without_crisis_language": 1.0,
        "roc_auc_ceiling_at_chance_on_crisis_language": 0.75,
    }


def test_training_from_a_half_precision_checkpoint_keeps_fp32_weights(
    tmp_path: Path, tiny_base: Path
) -> None:
    half = tmp_path / "half"
    shutil.copytree(tiny_base, half)
    AutoModelForSequenceClassification.from_pretrained(tiny_base).half().save_pretrained(half)
    assert {t.dtype for t in load_file(half / "model.safetensors").values()} == {torch.float16}
    data = load_task("crisis", data_dir(), goemotions_train=300)
    out = train(_cfg("crisis", tmp_path / "crisis", half), data)
    assert {t.dtype for t in load_file(out / "model.safetensors").values()} == {torch.float32}
    assert np.isfinite(crisis_scores(load_stage(out), ["i want to end my life"])).all()


def test_train_support_stage_loads_into_triage(
    tmp_path: Path, tiny_base: Path, tiny_models: dict[str, Path]
) -> None:
    data = load_task("support", data_dir())
    stale = tmp_path / "support" / "onnx" / "model.onnx"  # a graph of earlier weights
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    out = train(_cfg("support", tmp_path / "support", tiny_base), data)
    assert not stale.exists()  # retraining drops it: auto must not run the old graph
    data.validation = data.validation.select(range(200))
    thresholds = tune(out, data, target_precision=0.3)
    assert set(thresholds) <= set(StageCard.load(out).labels)
    test = data.test.select(range(150))
    metrics = classification_report(
        out, test["text"], np.array(test["label"]), tmp_path / "report", split="test[:150]"
    )
    assert metrics["examples"] == 150 and 0.0 <= metrics["weighted_f1"] <= 1.0
    for name in ("confusion_matrix.png", "pr_curve.png", "reliability.png", "summary.md"):
        assert (tmp_path / "report" / name).exists()
    triage = Triage(
        crisis_model=str(tiny_models["crisis"]),
        support_model=str(out),
        state_dir=tmp_path / "state",
        device="cpu",
    )
    d = triage.route("thank you so much for the help")
    assert set(d.support_scores) == set(StageCard.load(out).labels)


def test_train_support_head_on_stage_one_then_route_with_one_pass(
    tmp_path: Path, tiny_base: Path
) -> None:
    from stages.head import HEAD_FILE, HeadStage
    from training.head import default_layers
    from training.pipeline import build_config, train_and_tune

    assert default_layers(6) == [2, 4, 6] and default_layers(12) == [4, 8, 12]
    crisis = tmp_path / "crisis"
    shutil.copytree(tiny_base, crisis)
    cfg = build_config("support", tmp_path / "support", "demo", encoder=crisis)
    cfg = cfg.model_copy(update={"max_train_examples": 300, "max_eval_examples": 200})
    thresholds = train_and_tune(cfg, data_dir())
    card = StageCard.load(tmp_path / "support")
    assert card.encoder == "../crisis" and card.head_layers == [1]
    assert card.thresholds == thresholds and set(thresholds) == set(card.labels)
    assert (tmp_path / "support" / HEAD_FILE).exists()
    assert not (tmp_path / "support" / "config.json").exists()  # no checkpoint of its own
    model_card = (tmp_path / "support" / "README.md").read_text()  # a Hugging Face card
    metadata = yaml.safe_load(model_card.split("---")[1])
    assert metadata["license"] == "apache-2.0" and "crisis-triage" in metadata["tags"]
    for section in ("## Intended use", "## Training data", "## Evaluation", "## Known failure"):
        assert section in model_card
    assert load_stage(tmp_path / "support").card.task == "support"
    triage = Triage(
        crisis_model=str(crisis),
        support_model=str(tmp_path / "support"),
        state_dir=tmp_path / "state",
        device="cpu",
    )
    assert isinstance(triage.support_stage, HeadStage) and triage.support_stage.shares_pass
    d = triage.route("thank you so much for the help")
    assert set(d.support_scores) == set(card.labels)
