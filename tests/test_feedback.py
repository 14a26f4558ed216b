"""Counselors' outcomes become training data: a false alarm resolved is learnt from."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tiny_models import tiny_stage
from typer.testing import CliRunner

from review_queue.queue import ReviewQueue
from stages.transformer import TransformerStage
from training.feedback import load_feedback
from triage import Triage
from triage.cli import app
from triage.testing import policy_with, write_policy

FALSE_ALARM = "my phone battery is dying and so am i lol"


def test_outcomes_label_stage_one_and_corrections_stage_two(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    rows = [
        {"outcome": "false_alarm", "label": "positive_support", "text": "dying to see it"},
        {"outcome": "contacted", "label": None, "message_id": "m2"},
        {"outcome": "referred", "label": "emotional_support", "text": "so tired of all this"},
        {"outcome": "no_action_needed", "label": None, "message_id": "m-unknown"},
    ]
    export.write_text("".join(json.dumps(r) + "\n" for r in rows))
    texts = tmp_path / "texts.jsonl"
    texts.write_text(json.dumps({"id": "m2", "text": "i took the pills"}) + "\n")
    found = load_feedback(export, texts)
    assert found.crisis == [("dying to see it", 0), ("i took the pills", 1)]  # referred: neither
    assert [label for _, label in found.support] == [2, 1]
    assert found.without_text == 1  # no text stored, none given for its message id
    export.write_text(json.dumps({"label": "neutral", "text": "x"}) + "\n")
    with pytest.raises(ValueError, match="export.jsonl:1: not a resolved case"):
        load_feedback(export)


@pytest.mark.slow
def test_a_resolved_false_alarm_scores_lower_after_retraining_with_it(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    base = tiny_stage(tmp_path / "base", "crisis", spread=30.0)
    # Route the message to a person (any risk reaches review), then resolve it as a false alarm.
    policy = write_policy(
        policy_with(risk={"review_at": 0.0}, privacy={"store_raw_text": True}),
        tmp_path / "policy.yaml",
    )
    triage = make_triage(crisis_model=str(base), policy_path=policy)
    queue = ReviewQueue(triage.store)
    for decision in triage.route_many([FALSE_ALARM] * 16):  # a false alarm the line keeps seeing
        assert decision.human
        queue.claim("alice", str(decision.case_id))
        queue.resolve("alice", str(decision.case_id), "false_alarm")
    export = tmp_path / "export.jsonl"
    assert queue.export_corrections(export) == 16

    def retrain(name: str, *feedback: str) -> float:
        out = tmp_path / name
        args = ["train", "--task", "crisis", "--recipe", "cpu", "--base", str(base)]
        args += ["--output", str(out), "--max-length", "32", "--epochs", "2"]
        args += ["--max-train-examples", "64", "--max-eval-examples", "32"]
        result = CliRunner().invoke(app, [*args, "--goemotions-train", "200", *feedback])
        assert result.exit_code == 0, result.output
        if feedback:
            assert "feedback before:" in result.output and "feedback after:" in result.output
            report = json.loads((out / "feedback.json").read_text())
            assert report["examples"] == report["false_alarms"] == 16
        (score,) = TransformerStage("crisis", str(out)).crisis_probabilities([FALSE_ALARM])
        return score

    without = retrain("without")
    learnt = retrain("with", "--feedback", str(export), "--feedback-weight", "20")
    assert learnt < without, (learnt, without)  # the same retraining, and the counselor's word
