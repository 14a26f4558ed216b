"""Conversation context: rising risk across turns, the turns that did it, bounded memory."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select
from tests_support import (
    RISING,
    WINDOW_SPEC,
    assert_window_then_forgotten,
    rising_policy,
    threshold_policy,
)
from tiny_models import tiny_stage

from policies.context import Turn, concern_signal, contributing_turns
from policies.loader import load_policy
from review_queue.models import AuditRecord
from stages.labels import CRISIS
from triage import Triage
from triage.conversation import ConversationMemory, NewTurn

SPEC = WINDOW_SPEC  # window 5, TTL 30 minutes, concern 0.5 in 3 turns


def _turns(*risks: float | None) -> list[Turn]:
    return [Turn(number=i + 1, at=float(i), risk=r) for i, r in enumerate(risks)]


def test_three_turns_of_concern_escalate_and_name_the_turns() -> None:
    signal = concern_signal(SPEC, _turns(0.1, 0.6, 0.2, 0.7, 0.8))
    assert signal is not None and signal.turns == (2, 4, 5)
    assert signal.reason == "rising_risk:concern_turns:3/5"


def test_a_calm_last_turn_or_too_few_concerns_do_not_escalate() -> None:
    assert concern_signal(SPEC, _turns(0.9, 0.9, 0.9, 0.1)) is None  # it has calmed down
    assert concern_signal(SPEC, _turns(0.1, 0.1, 0.9, 0.9)) is None  # two are not three


def test_a_turn_whose_score_is_unknown_counts_as_concern() -> None:
    signal = concern_signal(SPEC, _turns(0.6, None, 0.7))
    assert signal is not None and signal.turns == (1, 2, 3)


def test_contributing_turns_are_those_whose_removal_lowers_the_score_most() -> None:
    window = _turns(0.1, 0.2, 0.3)
    assert contributing_turns(window, 0.9, [0.85, 0.5, 0.2]) == (2, 3)
    assert contributing_turns(window, 0.9, [0.95, 0.95, 0.95]) == (3,)  # no drop: the last


def test_memory_keeps_a_bounded_window_and_forgets_old_turns() -> None:
    memory = ConversationMemory(max_conversations=2)
    later = assert_window_then_forgotten(memory)
    memory.record(("t", "d"), NewTurn(later, 0.1, "hi"), SPEC)
    memory.record(("u", "c"), NewTurn(later, 0.1, "hi"), SPEC)  # tenants are apart
    assert len(memory) == 2  # the least recently seen conversation was dropped
    earlier, turn = memory.record(("t", "c"), NewTurn(later, 0.1, "hi"), SPEC)
    assert turn.number == 1 and earlier == []


@pytest.fixture
def rising_triage(make_triage: Callable[..., Triage], tmp_path: Path) -> Triage:
    """A Triage under which RISING escalates as a conversation and no turn does alone."""
    return make_triage(policy_path=rising_policy(make_triage(), tmp_path / "policy.yaml"))


def test_rising_risk_conversation_escalates_where_its_last_message_alone_does_not(
    rising_triage: Triage,
) -> None:
    alone = rising_triage.route(RISING[-1], conversation_id="other")
    assert not alone.crisis and alone.action != "urgent_human_review" and alone.turn == 1

    decisions = [rising_triage.route(m, conversation_id="c-1") for m in RISING]
    assert [d.turn for d in decisions] == [1, 2, 3]
    assert not any(d.crisis for d in decisions)  # no message is crisis on its own
    assert decisions[1].action != "urgent_human_review"  # two turns are not enough
    last = decisions[-1]
    assert last.action == "urgent_human_review" and last.human and last.case_id
    assert "rising_risk:concern_turns:3/3" in last.reasons
    assert last.context_turns == (1, 2, 3)
    with rising_triage.store.session() as s:  # the audit record says which turns did it
        record = s.exec(select(AuditRecord).where(AuditRecord.case_id == last.case_id)).one()
    assert json.loads(record.payload)["context_turns"] == [1, 2, 3]


def test_turns_of_one_conversation_in_one_batch_count_in_order(rising_triage: Triage) -> None:
    decisions = rising_triage.route_many(RISING, conversation_ids=["b"] * 3)
    assert [d.turn for d in decisions] == [1, 2, 3]
    assert decisions[-1].context_turns == (1, 2, 3)
    other_tenant_or_id = rising_triage.route(RISING[-1], conversation_id="b2")
    assert other_tenant_or_id.context_turns == ()


def test_without_a_conversation_id_no_context_is_kept(rising_triage: Triage) -> None:
    decisions = [rising_triage.route(m) for m in RISING]
    assert all(d.turn is None and d.context_turns == () for d in decisions)
    assert len(rising_triage.conversations) == 0


def test_read_together_keeps_a_calm_turn_after_a_crisis_turn_escalated(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    spread = tiny_stage(tmp_path / "spread", "crisis", spread=30.0)
    stage = make_triage(crisis_model=str(spread)).crisis_stage
    texts = [*RISING, "i can't do this anymore", "ok", "thanks", "see you"]
    alone = dict(zip(texts, (r.scores[CRISIS] for r in stage.predict(texts)), strict=True))

    def joined(a: str, b: str) -> float:
        return stage.predict([f"{a}\n{b}"])[0].scores[CRISIS]

    # A pair whose joined score lies clearly between the first turn's and the second's.
    margin, first, second, both = max(
        (min(alone[a] - j, j - alone[b]), a, b, j)
        for a, b in itertools.permutations(texts, 2)
        for j in [joined(a, b)]
    )
    assert margin > 1e-3, "the spread tiny model should order these texts"
    threshold = (both + alone[second]) / 2  # turn 1 passes alone, turn 2 does not, both do
    path = threshold_policy(
        tmp_path / "policy.yaml",
        threshold=threshold,
        conversation={"concern": 0.999, "min_concern_turns": 5, "read_together": True},
    )
    triage = make_triage(crisis_model=str(spread), policy_path=path)
    crisis_turn = triage.route(first, conversation_id="c")
    calm_turn = triage.route(second, conversation_id="c")
    assert crisis_turn.crisis and crisis_turn.context_turns == ()
    assert not calm_turn.crisis and calm_turn.action == "urgent_human_review"
    assert any(r.startswith("rising_risk:read_together:") for r in calm_turn.reasons)
    assert calm_turn.context_turns == (1,)  # removing turn 1 is what lowers the score
    assert triage.route(second, conversation_id="fresh").action != "urgent_human_review"


def test_default_policy_escalates_rising_risk_to_urgent_review() -> None:
    policy = load_policy()
    assert policy.rules.rising_risk == "urgent_human_review"
    assert not policy.conversation.read_together  # text is not kept unless a lead says so
