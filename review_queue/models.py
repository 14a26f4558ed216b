"""Database tables: cases, their outbox rows, and the audit chain."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum

from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Timezone-aware UTC now."""
    return datetime.now(timezone.utc)


class CaseStatus(str, Enum):
    """Where a case is in its life."""

    QUEUED = "queued"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


# Cases waiting for a counselor: what the queue lists and a claim may take.
OPEN_STATUSES = (CaseStatus.QUEUED, CaseStatus.ESCALATED)


class Case(SQLModel, table=True):
    """A message that a person must look at."""

    id: str = Field(primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    conversation_id: str | None = Field(default=None, index=True)
    message_id: str | None = Field(
        default=None, index=True, description="The platform's id of the message, if given."
    )
    user_id: str | None = Field(
        default=None, index=True, description="The platform's id of the writer, if given."
    )
    platform_metadata: str | None = Field(
        default=None, description="JSON of the string pairs the platform attached, if any."
    )
    tenant: str | None = None
    action: str
    priority: int = Field(index=True)
    status: CaseStatus = Field(default=CaseStatus.QUEUED, index=True)
    crisis: bool
    crisis_score: float
    support: str | None = None
    reasons: str = Field(description="JSON list of the decision's reasons.")
    decision: str = Field(description="The decision as JSON (never the message text).")
    policy_version: str
    message_hmac: str = Field(description="HMAC-SHA256 of the message under the deployment key.")
    message_length: int
    message_text: str | None = Field(default=None, description="Only if the policy allows it.")
    sla_deadline: datetime | None = None
    claimed_by: str | None = None
    claim_expires_at: datetime | None = None
    outcome: str | None = None
    corrected_label: str | None = None
    delivered_at: datetime | None = Field(default=None, description="A worker saw the case.")
    deliveries: int = Field(default=0, description="Worker deliveries (at-least-once).")


class OutboxStatus(str, Enum):
    """Publishing state of an outbox row."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"


class OutboxRow(SQLModel, table=True):
    """A case to publish to the queue; written in the same transaction as the case."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(unique=True, foreign_key="case.id")
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    sent_at: datetime | None = None


class AuditRecord(SQLModel, table=True):
    """One append-only, hash-chained record of a decision or a counselor action."""

    seq: int = Field(primary_key=True)
    at: str = Field(description="ISO-8601 UTC timestamp.")
    event: str = Field(index=True)
    case_id: str | None = Field(default=None, index=True)
    actor: str
    payload: str = Field(description="Canonical JSON of the event's details.")
    prev_hash: str
    hash: str = Field(unique=True)


class Role(str, Enum):
    """What a credential may do: platforms route; counselors work cases; leads also edit policy."""

    PLATFORM = "platform"
    COUNSELOR = "counselor"
    LEAD = "lead"


class Principal(SQLModel, table=True):
    """A platform or a person with a credential; only the key's SHA-256 is stored."""

    name: str = Field(primary_key=True)
    role: Role
    key_hash: str = Field(unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class PolicyVersion(SQLModel, table=True):
    """Every policy a lead saved from the console, in order."""

    id: int | None = Field(default=None, primary_key=True)
    saved_at: datetime = Field(default_factory=utcnow)
    author: str
    version: str
    sha256: str
    text: str
