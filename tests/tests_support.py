"""Assertions and scenarios shared by tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from policies.decision import Decision
from policies.schema import ConversationSpec
from stages.labels import CRISIS
from triage.conversation import NewTurn
from triage.testing import policy_with, write_policy

if TYPE_CHECKING:
    from triage import Triage
    from triage.conversation import TurnMemory


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


def settings_env(triage: Triage) -> dict[str, str]:
    """The environment for a `triage` command on ``triage``'s models and state folder."""
    s = triage.settings
    return {
        "TRIAGE_STATE_DIR": str(s.state_dir),
        "TRIAGE_CRISIS_MODEL": str(s.crisis_model),
        "TRIAGE_SUPPORT_MODEL": str(s.support_model),
        "TRIAGE_DEVICE": "cpu",
    }


WINDOW_SPEC = ConversationSpec(window_turns=5, ttl_minutes=30, concern=0.5, min_concern_turns=3)


def assert_window_then_forgotten(memory: TurnMemory) -> float:
    """Seven turns of ("t", "c") keep a window of five, no text; after the TTL, none.

    Returns the time after the TTL at which the eighth turn was recorded.
    """
    for t in range(7):
        earlier, turn = memory.record(("t", "c"), NewTurn(float(t), 0.1, "hi"), WINDOW_SPEC)
    assert turn.number == 7 and [x.number for x in earlier] == [3, 4, 5, 6]  # window of 5
    assert all(x.text is None for x in earlier)  # text only when the policy reads together
    later = 7 + WINDOW_SPEC.ttl_minutes * 60.0
    earlier, turn = memory.record(("t", "c"), NewTurn(later, 0.1, "hi"), WINDOW_SPEC)
    assert earlier == [] and turn.number == 8  # older than the TTL: forgotten
    return later
