"""Assertions shared by tests."""

from __future__ import annotations

from policies.decision import Decision


def assert_human(decision: Decision, reason: str) -> None:
    """The decision sends the message to a person, with ``reason`` among its reasons."""
    assert decision.human, decision
    assert decision.priority is not None
    assert reason in decision.reasons, decision.reasons
