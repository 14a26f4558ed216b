"""Assertions shared by tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from policies.decision import Decision

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
