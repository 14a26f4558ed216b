"""The counselors' queue: list, claim (with a lease), resolve, escalate, release; SLA checks.

Every action commits with its audit record in one transaction. A claim is a conditional
UPDATE, so two counselors can never own the same case.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from review_queue import audit
from review_queue.models import OPEN_STATUSES, AuditRecord, Case, CaseStatus, utcnow
from review_queue.store import CaseStore
from stages.errors import QueueError
from stages.labels import SUPPORT_LABELS

OUTCOMES = ("contacted", "referred", "emergency_services", "no_action_needed", "false_alarm")


@dataclass(frozen=True)
class SlaBreach:
    """A case that waited past its deadline and was re-prioritised."""

    case_id: str
    priority: int


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were written as UTC."""
    return value.replace(tzinfo=timezone.utc) if value and value.tzinfo is None else value


class ReviewQueue:
    """Counselor actions over the store's database."""

    def __init__(self, store: CaseStore, *, lease_s: int = 900) -> None:
        self.store = store
        self.lease_s = lease_s

    def _commit(self, session: Session, events: list[audit.AuditEvent]) -> None:
        audit.commit(session, events, self.store.anchor)

    def open_cases(self, limit: int = 50) -> list[Case]:
        """Queued (and expired-claim) cases, most urgent first, then oldest first."""
        self.expire_claims()
        with self.store.session() as s:
            stmt = (
                select(Case)
                .where(col(Case.status).in_(OPEN_STATUSES))
                .order_by(col(Case.priority), col(Case.created_at))
                .limit(limit)
            )
            return list(s.exec(stmt))

    def cases_of(self, user_id: str, *, exclude: str | None = None) -> list[Case]:
        """The open and claimed cases of one writer (the platform's ``user_id``), oldest first."""
        with self.store.session() as s:
            stmt = (
                select(Case)
                .where(Case.user_id == user_id, Case.id != (exclude or ""))
                .where(col(Case.status).in_([*OPEN_STATUSES, CaseStatus.CLAIMED]))
                .order_by(col(Case.created_at))
            )
            return list(s.exec(stmt))

    def find(self, prefix: str) -> str:
        """The full id of the one case whose id starts with ``prefix``."""
        with self.store.session() as s:
            ids = s.exec(select(Case.id).where(col(Case.id).startswith(prefix)).limit(2)).all()
        if len(ids) != 1:
            raise QueueError(f"{'no' if not ids else 'more than one'} case matches {prefix!r}")
        return ids[0]

    def get(self, case_id: str) -> Case:
        """One case, or ``QueueError``."""
        with self.store.session() as s:
            case = s.get(Case, case_id)
        if case is None:
            raise QueueError(f"no case {case_id!r}")
        return case

    def claim(self, counselor: str, case_id: str | None = None) -> Case:
        """Take a case (the most urgent open one by default); one owner at a time."""
        candidates = [case_id] if case_id else [c.id for c in self.open_cases(limit=20)]
        now = utcnow()
        for cid in candidates:
            with self.store.session() as s:
                claimable = or_(
                    col(Case.status).in_(OPEN_STATUSES),
                    and_(col(Case.status) == CaseStatus.CLAIMED, col(Case.claim_expires_at) < now),
                )
                result = s.execute(
                    update(Case)
                    .where(and_(col(Case.id) == cid, claimable))
                    .values(
                        status=CaseStatus.CLAIMED,
                        claimed_by=counselor,
                        claim_expires_at=now + timedelta(seconds=self.lease_s),
                    )
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    self._commit(
                        s,
                        [
                            audit.AuditEvent(
                                "case_claimed", counselor, {"lease_s": self.lease_s}, cid
                            )
                        ],
                    )
                    return self.get(cid)
                s.rollback()
        raise QueueError(f"case {case_id} is not open" if case_id else "no open case to claim")

    def _owned(self, s: Session, case_id: str, counselor: str) -> Case:
        case = s.get(Case, case_id)
        if case is None:
            raise QueueError(f"no case {case_id!r}")
        expires = as_utc(case.claim_expires_at)
        if (
            case.status != CaseStatus.CLAIMED
            or case.claimed_by != counselor
            or (expires is not None and expires < utcnow())
        ):
            raise QueueError(f"case {case_id} is not claimed by {counselor}")
        return case

    def resolve(
        self,
        counselor: str,
        case_id: str,
        outcome: str,
        corrected_label: str | None = None,
        note: str | None = None,
    ) -> Case:
        """Close a case you hold, with an outcome and optionally the right support class."""
        if outcome not in OUTCOMES:
            raise QueueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
        if corrected_label is not None and corrected_label not in SUPPORT_LABELS:
            raise QueueError(f"corrected label must be one of {SUPPORT_LABELS}")
        with self.store.session() as s:
            case = self._owned(s, case_id, counselor)
            case.status, case.outcome, case.corrected_label = (
                CaseStatus.RESOLVED,
                outcome,
                corrected_label,
            )
            s.add(case)
            self._commit(
                s,
                [
                    audit.AuditEvent(
                        "case_resolved",
                        counselor,
                        {"outcome": outcome, "corrected_label": corrected_label, "note": note},
                        case_id,
                    )
                ],
            )
        return self.get(case_id)

    def escalate(self, counselor: str, case_id: str, note: str | None = None) -> Case:
        """Hand a case you hold up to a lead, at top priority."""
        with self.store.session() as s:
            case = self._owned(s, case_id, counselor)
            case.status, case.priority, case.claimed_by = CaseStatus.ESCALATED, 0, None
            s.add(case)
            self._commit(
                s, [audit.AuditEvent("case_escalated", counselor, {"note": note}, case_id)]
            )
        return self.get(case_id)

    def release(self, counselor: str, case_id: str) -> Case:
        """Put a case you hold back in the queue."""
        with self.store.session() as s:
            case = self._owned(s, case_id, counselor)
            case.status, case.claimed_by, case.claim_expires_at = CaseStatus.QUEUED, None, None
            s.add(case)
            self._commit(s, [audit.AuditEvent("case_released", counselor, {}, case_id)])
        return self.get(case_id)

    def expire_claims(self) -> int:
        """Return cases whose claim lease ran out to the queue."""
        now = utcnow()
        with self.store.session() as s:
            expired = list(
                s.exec(
                    select(Case).where(
                        Case.status == CaseStatus.CLAIMED, col(Case.claim_expires_at) < now
                    )
                )
            )
            events = []
            for case in expired:
                events.append(
                    audit.AuditEvent("claim_expired", "system", {"owner": case.claimed_by}, case.id)
                )
                case.status, case.claimed_by, case.claim_expires_at = (
                    CaseStatus.QUEUED,
                    None,
                    None,
                )
                s.add(case)
            self._commit(s, events)
        return len(expired)

    def breach_sla(self, extend_minutes: int = 5) -> list[SlaBreach]:
        """Re-prioritise open cases past their deadline (alerts are the caller's to send)."""
        now = utcnow()
        breaches = []
        with self.store.session() as s:
            late = list(
                s.exec(
                    select(Case).where(
                        Case.status == CaseStatus.QUEUED, col(Case.sla_deadline) < now
                    )
                )
            )
            events = []
            for case in late:
                case.priority = max(0, case.priority - 1)
                case.sla_deadline = now + timedelta(minutes=extend_minutes)
                s.add(case)
                events.append(
                    audit.AuditEvent("sla_breached", "system", {"priority": case.priority}, case.id)
                )
                breaches.append(SlaBreach(case.id, case.priority))
            self._commit(s, events)
        return breaches

    def mark_delivered(self, case_id: str, *, max_deliveries: int = 5) -> str:
        """Worker side: count a delivery; the first one is audited (idempotent)."""
        with self.store.session() as s:
            case = s.get(Case, case_id)
            if case is None:
                return "unknown"
            case.deliveries += 1
            events = []
            if case.delivered_at is None:
                case.delivered_at = utcnow()
                events.append(audit.AuditEvent("case_delivered", "worker", {}, case_id))
            elif case.deliveries > max_deliveries and case.status == CaseStatus.QUEUED:
                # A poison message: stop the loop, keep the case in front of a person.
                case.status, case.priority = CaseStatus.ESCALATED, 0
                events.append(
                    audit.AuditEvent(
                        "dead_lettered", "worker", {"deliveries": case.deliveries}, case_id
                    )
                )
            s.add(case)
            self._commit(s, events)
            return "delivered" if events else "duplicate"

    def history(self, case_id: str) -> list[dict[str, Any]]:
        """The audit records of one case, oldest first."""
        with self.store.session() as s:
            records = s.exec(
                select(AuditRecord)
                .where(AuditRecord.case_id == case_id)
                .order_by(col(AuditRecord.seq))
            )
            return [
                {
                    "seq": r.seq,
                    "at": r.at,
                    "event": r.event,
                    "actor": r.actor,
                    "payload": json.loads(r.payload),
                }
                for r in records
            ]

    def export_corrections(self, path: Path) -> int:
        """Resolved cases with outcome and corrected label, as JSON lines, for retraining.

        Text only where the policy stored it; ``message_id`` (when the platform gave one)
        joins a case to the platform's text (``triage train --feedback``).
        """
        count = 0
        with self.store.session() as s, path.open("w", encoding="utf-8") as fh:
            rows: Iterator[Case] = iter(
                s.exec(
                    select(Case)
                    .where(Case.status == CaseStatus.RESOLVED)
                    .order_by(col(Case.created_at))
                )
            )
            for case in rows:
                fh.write(
                    json.dumps(
                        {
                            "case_id": case.id,
                            "message_id": case.message_id,
                            "user_id": case.user_id,
                            "metadata": json.loads(case.platform_metadata or "null"),
                            "conversation_id": case.conversation_id,
                            "outcome": case.outcome,
                            "label": case.corrected_label,
                            "predicted": case.support,
                            "text": case.message_text,
                            "message_hmac": case.message_hmac,
                            "policy_version": case.policy_version,
                        }
                    )
                    + "\n"
                )
                count += 1
        return count
