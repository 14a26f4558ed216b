"""Stage two as a head on stage one's encoder: one forward pass, the same scores as alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_models import tiny_head, tiny_stage

from stages import transformer
from stages.errors import ModelDirError
from stages.head import HeadStage, load_model_stage
from stages.transformer import TransformerStage
from training.export import export_onnx
from triage import Triage

TEXTS = [
    "ok",
    "thank you so much, talking to you really helped",
    "what time does the support group meet on thursdays?",
    "i can't sleep and work was awful again " * 30,  # several windows
    "",
]


@pytest.fixture
def models(tmp_path: Path) -> dict[str, Path]:
    crisis = tiny_stage(tmp_path / "crisis", "crisis", thresholds={"crisis": 0.99}, spread=30.0)
    card = transformer.StageCard.load(crisis)
    card.max_windows = 4
    card.save(crisis)
    return {"crisis": crisis, "support": tiny_head(tmp_path / "support", crisis)}


def _triage(models: dict[str, Path], state: Path, **settings: object) -> Triage:
    return Triage(
        crisis_model=str(models["crisis"]),
        support_model=str(models["support"]),
        state_dir=state,
        device="cpu",
        **settings,
    )


class _Passes:
    """Counts the forward passes of a stage's scorer (the real scorer still runs)."""

    def __init__(self, stage: TransformerStage) -> None:
        self.count, self._inner = 0, stage.scorer
        self.per_sequence = stage.scorer.per_sequence
        stage.scorer = self

    def __call__(self, *args: object, **kwargs: object) -> object:
        self.count += 1
        return self._inner(*args, **kwargs)  # type: ignore[operator]


def test_when_stage_two_is_a_head_then_routing_runs_one_encoder_pass(
    models: dict[str, Path], tmp_path: Path
) -> None:
    triage = _triage(models, tmp_path / "state", threads=2)
    assert isinstance(triage.support_stage, HeadStage) and triage.support_stage.shares_pass
    assert not triage.stages_side_by_side  # nothing to run beside stage one
    crisis = triage.crisis_stage
    assert isinstance(crisis, TransformerStage)
    passes = _Passes(crisis)
    decisions = triage.route_many(["thanks, that helped", "what time is the group?"])
    assert passes.count == 1  # stage one's pass served stage two too
    assert all(d.support is not None and d.support_scores for d in decisions)

    # The same head with an encoder of its own scores exactly the same.
    alone = HeadStage("support", models["support"], device="cpu")
    assert not alone.shares_pass
    shared = np.array(triage.support_stage.probabilities(TEXTS[:4]))
    assert np.abs(shared - np.array(alone.probabilities(TEXTS[:4]))).max() < 1e-6
    assert np.allclose(shared.sum(1), 1.0, atol=1e-5)


def test_when_the_memory_is_full_then_the_head_scores_again_and_still_agrees(
    models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transformer, "MEMO_WINDOWS", 2)
    encoder = TransformerStage("crisis", models["crisis"], device="cpu")
    head = load_model_stage("support", models["support"], encoder=encoder, device="cpu")
    assert isinstance(head, HeadStage) and head.shares_pass
    reference = np.array(HeadStage("ref", models["support"], device="cpu").probabilities(TEXTS))
    encoder.predict(TEXTS)  # the batch just scored is kept whole, whatever the bound
    assert set(TEXTS) <= set(encoder._memo)
    encoder.predict(["another message", "and one more"])
    assert not set(TEXTS) & set(encoder._memo)  # evicted: the head must score them itself
    passes = _Passes(encoder)
    got = np.array(head.probabilities(TEXTS))
    assert passes.count >= 1 and np.abs(got - reference).max() < 1e-6


def test_head_on_the_onnx_graph_agrees_with_the_head_on_pytorch(models: dict[str, Path]) -> None:
    torch_head = HeadStage("support", models["support"], device="cpu", backend="torch")
    export_onnx(models["crisis"], quantize=False)
    onnx_head = HeadStage("support", models["support"], device="cpu", backend="onnx")
    assert onnx_head.backend == "onnx"
    a = np.array(torch_head.probabilities(TEXTS))
    b = np.array(onnx_head.probabilities(TEXTS))
    assert np.abs(a - b).max() < 1e-4


def test_when_the_encoder_graph_predates_heads_then_loading_says_to_export_again(
    models: dict[str, Path], tmp_path: Path
) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification

    graph = models["crisis"] / "onnx" / "model.onnx"
    graph.parent.mkdir()
    model = AutoModelForSequenceClassification.from_pretrained(models["crisis"]).eval()
    ids = torch.ones(1, 4, dtype=torch.long)
    torch.onnx.export(
        model,
        (ids, ids),
        str(graph),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"}},
        dynamo=False,
    )
    with pytest.raises(ModelDirError, match="triage export"):
        _triage(models, tmp_path / "state", backend="onnx")


def test_when_the_head_does_not_fit_its_card_then_loading_fails_clearly(
    models: dict[str, Path],
) -> None:
    card = transformer.StageCard.load(models["support"])
    card.labels = card.labels[:4]
    card.save(models["support"])
    with pytest.raises(ModelDirError, match="5 outputs, card has 4 labels"):
        HeadStage("support", models["support"], device="cpu")


def test_when_the_shared_encoder_breaks_then_both_stages_fail_safe(
    models: dict[str, Path], tmp_path: Path
) -> None:
    import torch
    from tests_support import assert_nan_stage_one_goes_to_a_human

    triage = _triage(models, tmp_path / "state", backend="torch")
    # The encoder breaks while the process runs (its file is intact, so the head loads): the
    # pass both stages share gives NaN.
    with torch.no_grad():
        for p in triage.crisis_stage.model.parameters():  # type: ignore[attr-defined]
            p.fill_(float("nan"))
    assert_nan_stage_one_goes_to_a_human(triage, "what are your opening hours?")


def test_when_stage_one_is_retrained_then_its_old_head_is_refused(
    models: dict[str, Path],
) -> None:
    tiny_stage(models["crisis"], "crisis", thresholds={"crisis": 0.99}, seed=1)  # new weights
    with pytest.raises(ModelDirError, match="was fit on other weights"):
        HeadStage("support", models["support"], device="cpu")
