"""`triage export`: ONNX graphs of a stage, checked against PyTorch; what `auto` picks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_models import tiny_stage

from stages.backends import onnx_path, resolve_backend
from stages.transformer import TransformerStage
from training.export import export_onnx, validate
from triage import Triage

TEXTS = [
    "ok",
    "i can't sleep again and work was awful today",
    "what time does the group meet on thursdays?",
    "thank you so much, that really helped " * 5,
]


def test_export_writes_graphs_that_agree_with_pytorch_and_auto_picks_int8(
    tmp_path: Path,
) -> None:
    model = tiny_stage(tmp_path / "support", "support", spread=30.0)
    assert resolve_backend("auto", model, "cpu") == "torch"  # nothing exported yet
    written = export_onnx(model)
    assert written == [onnx_path(model, "onnx"), onnx_path(model, "onnx-int8")]
    assert resolve_backend("auto", model, "cpu") == "onnx-int8"
    assert resolve_backend("auto", model, "cuda") == "torch"

    report = validate(model, TEXTS, ["onnx", "onnx-int8"])
    fp32 = report["onnx"]
    assert fp32["max_abs_prob_diff"] < 1e-4 and fp32["label_agreement"] == 1.0
    assert fp32["alone_vs_batch_max_abs_prob_diff"] < 1e-4
    # int8 runs each sequence alone: its activation scales never see the rest of the batch.
    assert report["onnx-int8"]["alone_vs_batch_max_abs_prob_diff"] < 1e-6
    assert (model / "onnx" / "validation.json").exists()

    onnx_path(model, "onnx-int8").unlink()
    assert resolve_backend("auto", model, "cpu") == "onnx"  # exported without quantising
    torch_stage = TransformerStage("support", model, backend="torch")
    onnx_stage = TransformerStage("support", model, backend="auto")
    assert onnx_stage.backend == "onnx"
    a = np.array(torch_stage.probabilities(TEXTS))
    b = np.array(onnx_stage.probabilities(TEXTS))
    assert np.abs(a - b).max() < 1e-4


def _demo_triage(crisis: Path, support: Path, state: Path) -> Triage:
    """The Triage `make demo` builds on these models: CPU, both cores."""
    return Triage(
        crisis_model=str(crisis),
        support_model=str(support),
        state_dir=state,
        device="cpu",
        threads=2,
    )


def test_demo_exports_its_models_so_the_default_path_runs_onnx_side_by_side(
    tmp_path: Path,
) -> None:
    from triage.cli import ensure_demo_models

    crisis = tiny_stage(tmp_path / "crisis", "crisis", thresholds={"crisis": 0.99})
    support = tiny_stage(tmp_path / "support", "support")
    ensure_demo_models(crisis, support)  # present already: not retrained, only exported
    assert onnx_path(crisis, "onnx").exists() and onnx_path(support, "onnx").exists()
    assert onnx_path(support, "onnx-int8").exists()  # what auto runs on CPU
    assert (support / "onnx" / "validation.json").exists()
    triage = _demo_triage(crisis, support, tmp_path / "state")
    assert triage.crisis_stage.backend == "onnx-int8" and triage.stages_side_by_side  # type: ignore[attr-defined]
    assert triage.route("i want to kill myself").human


@pytest.mark.slow
def test_demo_trains_stage_two_as_a_head_that_reads_stage_ones_onnx_pass(
    tmp_path: Path,
) -> None:
    from stages.head import HeadStage
    from triage.cli import ensure_demo_models

    crisis = tiny_stage(tmp_path / "crisis", "crisis", thresholds={"crisis": 0.99})
    support = tmp_path / "support"
    ensure_demo_models(crisis, support)  # stage one present: only stage two's head is trained
    assert (support / "head.safetensors").exists() and not onnx_path(support, "onnx").exists()
    assert onnx_path(crisis, "onnx").exists()
    triage = _demo_triage(crisis, support, tmp_path / "state")
    assert triage.crisis_stage.backend == "onnx-int8"  # type: ignore[attr-defined]
    assert isinstance(triage.support_stage, HeadStage) and triage.support_stage.shares_pass
    assert not triage.stages_side_by_side
    assert triage.route("thank you, that helped a lot").support is not None

    # Stage one retrained in place (training drops its graphs): the head is fit again.
    fitted = (support / "head.safetensors").read_bytes()
    tiny_stage(crisis, "crisis", thresholds={"crisis": 0.99}, seed=1)
    ensure_demo_models(crisis, support)
    assert (support / "head.safetensors").read_bytes() != fitted
    assert onnx_path(crisis, "onnx").exists()
    assert isinstance(_demo_triage(crisis, support, tmp_path / "s2").support_stage, HeadStage)
