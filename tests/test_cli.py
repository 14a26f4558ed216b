"""The `triage` CLI: training commands on a tiny base, and a counselor's session."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests_support import settings_env
from tiny_models import tiny_stage
from typer.testing import CliRunner

from stages.model_dir import StageCard
from triage import Triage
from triage.cli import app

runner = CliRunner()


@pytest.mark.slow
def test_train_tune_evaluate_from_the_cli(tmp_path: Path) -> None:
    base = tiny_stage(tmp_path / "base", "crisis")
    out = tmp_path / "tweeteval"
    result = runner.invoke(
        app,
        [
            "train",
            "--task",
            "tweeteval_emotion",
            "--output",
            str(out),
            "--base",
            str(base),
            "--recipe",
            "cpu",
            "--max-length",
            "32",
            "--epochs",
            "1",
            "--max-train-examples",
            "32",
            "--max-eval-examples",
            "32",
        ],
    )
    assert result.exit_code == 0, result.output
    card = StageCard.load(out)
    assert card.labels == ["anger", "joy", "optimism", "sadness"] and card.thresholds
    result = runner.invoke(
        app,
        [
            "tune-thresholds",
            str(out),
            "--task",
            "tweeteval_emotion",
            "--target-precision",
            "0.9",
            "--max-windows",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    retuned = StageCard.load(out)
    assert retuned.thresholds != card.thresholds and retuned.max_windows == 2
    report = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(out),
            "--stage",
            "tweeteval_emotion",
            "--output",
            str(report),
            "--split",
            "validation",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads((report / "metrics.json").read_text())["examples"] == 374


def test_bad_recipe_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["train", "--task", "crisis", "--output", str(tmp_path), "--recipe", "huge"]
    )
    assert result.exit_code == 1
    assert "unknown recipe 'huge'" in result.output


def test_counselor_session(
    make_triage: Callable[..., Triage], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    triage = make_triage()
    monkeypatch.setenv("TRIAGE_STATE_DIR", str(triage.settings.state_dir))
    d = triage.route("i am going to kill myself tonight")
    listed = runner.invoke(app, ["queue", "list"])
    assert listed.exit_code == 0 and d.case_id[:8] in listed.output
    claimed = runner.invoke(app, ["queue", "claim", "--counselor", "alice"])
    assert claimed.exit_code == 0 and d.case_id in claimed.output
    other = runner.invoke(
        app, ["queue", "resolve", d.case_id[:8], "--counselor", "bob", "--outcome", "contacted"]
    )
    assert other.exit_code == 1 and "not claimed by bob" in other.output
    done = runner.invoke(
        app,
        [
            "queue",
            "resolve",
            d.case_id,
            "--counselor",
            "alice",
            "--outcome",
            "contacted",
            "--label",
            "crisis_support",
        ],
    )
    assert done.exit_code == 0, done.output
    shown = runner.invoke(app, ["queue", "show", d.case_id[:8]])
    assert "case_claimed by alice" in shown.output and "case_resolved by alice" in shown.output
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0 and "audit chain intact" in verified.output
    export = tmp_path / "corrections.jsonl"
    assert runner.invoke(app, ["queue", "export", "--output", str(export)]).exit_code == 0
    assert json.loads(export.read_text())["label"] == "crisis_support"


def test_head_commands_say_what_a_head_is(tmp_path: Path) -> None:
    from tiny_models import tiny_head

    crisis = tiny_stage(tmp_path / "crisis", "crisis")
    head = tiny_head(tmp_path / "support", crisis)
    result = runner.invoke(app, ["export", str(head), "--no-quantize", "--validate-on", "0"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "is a head on" in said and (crisis / "onnx" / "model.onnx").exists()
    assert not (head / "onnx").exists()
    result = runner.invoke(
        app, ["tune-thresholds", str(head), "--task", "support", "--max-windows", "2"]
    )
    assert result.exit_code == 1 and "reads its encoder's windows" in " ".join(
        result.output.split()
    )
    result = runner.invoke(
        app, ["train", "--task", "crisis", "--encoder", str(crisis), "--output", str(tmp_path)]
    )
    assert result.exit_code == 1 and "has none" in " ".join(result.output.split())


@pytest.mark.slow
def test_load_report_runs_on_the_reference_traffic(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    env = settings_env(make_triage())
    out = tmp_path / "load"
    args = ["load-report", "--everyday", "200", "--output", str(out)]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    summary = (out / "summary.md").read_text()
    for group in ("everyday messages", "C-SSRS at-risk users", "r/SuicideWatch posts"):
        assert group in summary
    assert (out / "load.png").stat().st_size > 0
    cached = runner.invoke(app, [*args, "--cached"], env=env)  # the traffic scored above
    assert cached.exit_code == 0 and "C-SSRS at-risk users" in cached.output
