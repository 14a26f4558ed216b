"""What an operator watches in the queue: depth, waits and SLA breaches by tier, outbox lag."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from review_queue.models import (
    OPEN_STATUSES,
    AuditRecord,
    Case,
    CaseStatus,
    OutboxRow,
    OutboxStatus,
    utcnow,
)
from review_queue.queue import as_utc
from review_queue.store import CaseStore


@dataclass
class QueueState:
    """The queue at one moment.

    Ages in seconds; tiers as in the decisions (``unknown`` for cases opened before decisions
    had one).
    """

    depth: dict[str, int] = field(default_factory=dict)
    oldest_unclaimed_s: dict[str, float] = field(default_factory=dict)
    sla_breached: dict[str, int] = field(default_factory=dict)
    outbox_pending: int = 0
    outbox_oldest_s: float = 0.0
    # Since the database began, from the audit trail: SLA breaches the relay recorded, and
    # cases escalated after too many deliveries (poison messages).
    sla_breaches_recorded: int = 0
    dead_lettered: int = 0


def _tier(decision_json: str) -> str:
    try:
        return str(json.loads(decision_json).get("tier") or "unknown")
    except (ValueError, AttributeError):
        return "unknown"


def queue_state(store: CaseStore, now: datetime | None = None) -> QueueState:
    """Read the queue's state from the database (``SQLAlchemyError`` if it is down)."""
    now = now or utcnow()
    state = QueueState()
    depth: dict[str, int] = defaultdict(int)
    oldest: dict[str, float] = defaultdict(float)
    breached: dict[str, int] = defaultdict(int)
    with store.session() as s:
        open_cases = s.exec(
            select(Case.decision, Case.status, Case.created_at, Case.sla_deadline).where(
                col(Case.status).in_(OPEN_STATUSES)
            )
        ).all()
        unsent = s.exec(
            select(Case.created_at)
            .join(OutboxRow, col(OutboxRow.case_id) == col(Case.id))
            .where(OutboxRow.status != OutboxStatus.SENT)
        ).all()
        audited = dict(
            s.exec(
                select(AuditRecord.event, func.count())
                .where(col(AuditRecord.event).in_(["sla_breached", "dead_lettered"]))
                .group_by(AuditRecord.event)
            ).all()
        )
    state.sla_breaches_recorded = audited.get("sla_breached", 0)
    state.dead_lettered = audited.get("dead_lettered", 0)
    for decision, status, created_at, deadline in open_cases:
        tier = _tier(decision)
        depth[tier] += 1
        created = as_utc(created_at)
        if status == CaseStatus.QUEUED and created is not None:
            oldest[tier] = max(oldest[tier], (now - created).total_seconds())
        due = as_utc(deadline)
        if due is not None and due < now:
            breached[tier] += 1
    state.depth, state.oldest_unclaimed_s, state.sla_breached = (
        dict(depth),
        dict(oldest),
        dict(breached),
    )
    state.outbox_pending = len(unsent)
    ages = [(now - c).total_seconds() for c in (as_utc(x) for x in unsent) if c is not None]
    state.outbox_oldest_s = max(ages, default=0.0)
    return state
