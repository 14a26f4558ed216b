"""route() end to end on real (tiny) models, the shipped policy and SQLite."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlmodel import select

from policies.decision import Decision
from review_queue.audit import verify
from review_queue.models import AuditRecord, Case, OutboxRow
from review_queue.privacy import message_hmac
from stages.labels import SUPPORT_LABELS
from triage import Triage
from triage.testing import policy_with


def test_decision_fields(triage: Triage) -> None:
    d = triage.route("what time does the clinic open?", conversation_id="c-17")
    assert d.action in triage.policy.actions
    assert 0.0 <= d.crisis_score <= 1.0
    assert d.support in SUPPORT_LABELS
    assert set(d.support_scores) == set(SUPPORT_LABELS)
    assert abs(sum(d.support_scores.values()) - 1.0) < 1e-4
    assert d.policy_version == triage.policy.version
    assert d.conversation_id == "c-17"
    assert d.reasons


def test_when_crisis_then_case_persisted_before_return(triage: Triage) -> None:
    d = triage.route("i am going to k1ll mys3lf tonight", conversation_id="c-1")
    assert d.crisis and d.action == "urgent_human_review" and d.case_id
    with triage.store.session() as s:
        case = s.get(Case, d.case_id)
        assert case is not None and case.priority == 0 and case.conversation_id == "c-1"
        assert case.sla_deadline is not None
        outbox = s.exec(select(OutboxRow).where(OutboxRow.case_id == d.case_id)).one()
        assert outbox.status == "pending"
        # privacy default: no text, a keyed hash and the length instead
        assert case.message_text is None
        assert case.message_hmac == message_hmac(
            triage.store.key, "i am going to k1ll mys3lf tonight"
        )
        assert case.message_length == len("i am going to k1ll mys3lf tonight")
        assert json.loads(case.reasons) == d.reasons


def test_every_decision_is_audited_without_text(triage: Triage) -> None:
    texts = ["hello there", "i want to end my life, signed zebra-7731", ""]
    decisions = triage.route_many(texts)
    with triage.store.session() as s:
        records = s.exec(select(AuditRecord)).all()
        assert [r.event for r in records] == ["decision"] * 3
        assert [json.loads(r.payload)["action"] for r in records] == [d.action for d in decisions]
        assert not any("zebra-7731" in r.payload for r in records)
        assert verify(s, triage.store.anchor).ok


def test_when_policy_allows_then_text_stored(make_triage: Callable[..., Triage]) -> None:
    triage = make_triage(policy=policy_with(privacy={"store_raw_text": True}))
    d = triage.route("i want to end my life")
    with triage.store.session() as s:
        assert s.get(Case, d.case_id).message_text == "i want to end my life"


def test_route_many_gives_the_same_decisions_as_route(triage: Triage) -> None:
    texts = [
        "hello",
        "k i l l myself",
        "",
        "thanks so much!!",
        "why is the sky blue?" * 40,
        "i'm so tired of everything",
    ]
    assert_same_decisions(triage.route_many(texts), [triage.route(t) for t in texts])


def assert_same_decisions(got: list[Decision], expected: list[Decision]) -> None:
    """Same decisions; scores equal up to the float rounding that padding changes."""
    exact = {
        "action",
        "human",
        "priority",
        "crisis",
        "support",
        "reasons",
        "evidence",
        "policy_version",
        "message_length",
    }
    for b, s in zip(got, expected, strict=True):
        assert b.model_dump(include=exact) == s.model_dump(include=exact)
        assert b.crisis_score == pytest.approx(s.crisis_score, abs=1e-5)
        assert (b.support_scores is None) == (s.support_scores is None)
        if b.support_scores is not None:
            assert b.support_scores == pytest.approx(s.support_scores, abs=1e-5)
        assert (b.case_id is None) == (s.case_id is None)


def test_when_policy_skips_stage_two_for_crisis_then_same_action(
    make_triage: Callable[..., Triage],
) -> None:
    lazy = make_triage(policy=policy_with(support_stage="when_needed"))
    eager = make_triage()
    texts = ["i want to kill myself", "hello friend"]
    for a, b in zip(lazy.route_many(texts), eager.route_many(texts), strict=True):
        assert (a.action, a.crisis, a.reasons) == (b.action, b.crisis, b.reasons)
    assert lazy.route("i want to kill myself").support is None


def test_stage_two_beside_stage_one_gives_the_decisions_of_stages_in_turn(
    make_triage: Callable[..., Triage],
) -> None:
    policy = policy_with(support_stage="when_needed")  # stage two's unneeded results dropped
    beside = make_triage(policy=policy, parallel_stages=True)
    in_turn = make_triage(policy=policy, parallel_stages=False)
    assert beside.stages_side_by_side and not in_turn.stages_side_by_side
    texts = ["i want to kill myself", "hello friend", "", "why is the sky blue?" * 40]
    assert_same_decisions(beside.route_many(texts), in_turn.route_many(texts))
    assert beside.route("i want to kill myself").support is None


def test_stages_run_side_by_side_only_where_it_pays() -> None:
    from triage.settings import Settings

    two_cores = Settings(device="cpu", threads=2)
    assert two_cores.stage_threads(["onnx", "onnx"]) == (True, 1)  # one core each
    assert two_cores.stage_threads(["onnx", "torch"]) == (False, 2)  # torch: one shared pool
    assert Settings(device="cpu", threads=1).stage_threads(["onnx", "onnx"]) == (False, 1)
    forced = Settings(device="cpu", threads=4, parallel_stages=True)
    assert forced.stage_threads(["torch", "torch"]) == (True, 2)


def test_concurrent_callers_get_the_decisions_of_one_caller(
    make_triage: Callable[..., Triage],
) -> None:
    # A web service calls route() from many threads at once, each stage beside the other.
    from concurrent.futures import ThreadPoolExecutor

    triage = make_triage(parallel_stages=True)
    texts = ["hello", "i want to kill myself", "why is the sky blue?" * 20, "thanks!"] * 6
    alone = [triage.route(t) for t in texts]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(triage.route, texts))
    assert_same_decisions(together, alone)
