"""Counselor actions on the queue: ordering, one owner, leases, SLA, corrections export."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from review_queue.audit import verify
from review_queue.models import CaseStatus
from review_queue.queue import ReviewQueue
from stages.errors import QueueError
from stages.labels import SUPPORT_LABELS
from triage import Triage
from triage.testing import policy_with, write_policy


@pytest.fixture
def queue_and_triage(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> tuple[ReviewQueue, Triage]:
    every_class_to_a_person = dict.fromkeys(SUPPORT_LABELS, "human_review")
    policy = write_policy(
        policy_with(privacy={"store_raw_text": True}, rules={"support": every_class_to_a_person}),
        tmp_path / "policy.yaml",
    )
    triage = make_triage(policy_path=policy)
    return ReviewQueue(triage.store, lease_s=60), triage


def test_queue_orders_by_priority_then_age(queue_and_triage) -> None:
    queue, triage = queue_and_triage
    calm = triage.route("can you tell me about your services")
    urgent = triage.route("i want to kill myself")
    assert urgent.priority == 0 and calm.priority is not None and calm.priority > 0
    assert [c.id for c in queue.open_cases()] == [urgent.case_id, calm.case_id]


def test_claim_has_one_owner_and_resolve_is_audited(queue_and_triage, tmp_path: Path) -> None:
    queue, triage = queue_and_triage
    d = triage.route("i want to kill myself")
    case = queue.claim("alice")
    assert case.id == d.case_id and case.claimed_by == "alice"
    with pytest.raises(QueueError, match="not open"):
        queue.claim("bob", d.case_id)
    with pytest.raises(QueueError, match="not claimed by bob"):
        queue.resolve("bob", d.case_id, "contacted")
    with pytest.raises(QueueError, match="outcome must be one of"):
        queue.resolve("alice", d.case_id, "shrug")
    resolved = queue.resolve("alice", d.case_id, "contacted", corrected_label="crisis_support")
    assert resolved.status == CaseStatus.RESOLVED
    assert [e["event"] for e in queue.history(d.case_id)] == [
        "decision",
        "case_claimed",
        "case_resolved",
    ]
    out = tmp_path / "corrections.jsonl"
    assert queue.export_corrections(out) == 1
    row = json.loads(out.read_text())
    assert row["label"] == "crisis_support" and row["text"] == "i want to kill myself"
    with triage.store.session() as s:
        assert verify(s, triage.store.anchor).ok


def test_expired_claim_returns_to_queue(queue_and_triage) -> None:
    queue, triage = queue_and_triage
    d = triage.route("i want to end my life")
    queue.lease_s = 0
    queue.claim("alice", d.case_id)
    time.sleep(0.05)
    assert [c.id for c in queue.open_cases()] == [d.case_id]
    assert queue.claim("bob").claimed_by == "bob"
    assert "claim_expired" in [e["event"] for e in queue.history(d.case_id)]


def test_escalate_and_release(queue_and_triage) -> None:
    queue, triage = queue_and_triage
    a = triage.route("how do i reset my password")
    queue.claim("alice", a.case_id)
    assert queue.escalate("alice", a.case_id, "needs a lead").priority == 0
    b = triage.route("what are your hours")
    queue.claim("carol", b.case_id)
    assert queue.release("carol", b.case_id).status == CaseStatus.QUEUED


def test_sla_breach_reprioritises(queue_and_triage) -> None:
    queue, triage = queue_and_triage
    d = triage.route("who can i talk to about my week")
    with triage.store.session() as s:
        from review_queue.models import Case, utcnow

        case = s.get(Case, d.case_id)
        case.sla_deadline = utcnow().replace(year=2000)
        s.add(case)
        s.commit()
    breaches = queue.breach_sla()
    assert d.priority is not None
    assert [(b.case_id, b.priority) for b in breaches] == [(d.case_id, d.priority - 1)]
    assert queue.breach_sla() == []  # deadline moved on: no second alert at once
