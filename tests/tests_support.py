"""Assertions and scenarios shared by tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from policies.decision import Decision
from stages.labels import CRISIS
from triage.testing import policy_with, write_policy

if TYPE_CHECKING:
    from triage import Triage


def assert_human(decision: Decision, reason: str) -> None:
    """The decision sends the message to a person, with ``reason`` among its reasons."""
    assert decision.human, decision
    assert decision.priority is not None
    assert reason in decision.reasons, decision.reasons


def assert_nan_stage_one_goes_to_a_human(triage: Triage, message: str) -> None:
    """With stage one's weights all NaN, ``message`` is a case for a person, saying why."""
    d = triage.route(message)
    assert_human(d, "fail_safe:model_error")
    assert "stage_failed:crisis:StageError" in d.reasons
    assert d.case_id is not None


RISING = ["I'm tired", "nothing matters", "I gave away my guitar today"]


def rising_policy(probe: Triage, path: Path) -> Path:
    """A policy file whose thresholds sit just above each of RISING's turns alone.

    The tiny model's scores are what they are; the threshold is placed so that no turn is
    flagged alone and every turn is "of concern": the situation rising risk is for.
    """
    scores = [r.scores[CRISIS] for r in probe.crisis_stage.predict(RISING)]
    threshold = max(scores) * 1.05
    conversation = {"concern": round(min(scores) / threshold * 0.95, 4), "min_concern_turns": 3}
    return threshold_policy(path, threshold=threshold, conversation=conversation)


def threshold_policy(path: Path, *, threshold: float, **changes: object) -> Path:
    """The shipped policy with stage one's review and urgent thresholds both at ``threshold``."""
    policy = policy_with(
        risk={"review_at": threshold, "urgent_at": threshold},
        rules={"unverified_language": None},
        **changes,
    )
    return write_policy(policy, path)
