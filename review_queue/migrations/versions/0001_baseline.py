"""Baseline: the schema of release 0.1.0, with the triggers that keep the audit append-only.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from review_queue.database import audit_triggers

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the tables of release 0.1.0 and the audit triggers."""
    _create_auditrecord()
    _create_case()
    _create_policyversion()
    _create_principal()
    _create_outboxrow()
    _audit_triggers()


def _create_auditrecord() -> None:
    """The auditrecord table."""
    op.create_table(
        "auditrecord",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=True),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("payload", sa.String(), nullable=False),
        sa.Column("prev_hash", sa.String(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("hash"),
    )
    with op.batch_alter_table("auditrecord", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auditrecord_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditrecord_event"), ["event"], unique=False)


def _create_case() -> None:
    """The case table."""
    op.create_table(
        "case",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("conversation_id", sa.String(), nullable=True),
        sa.Column("tenant", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("QUEUED", "CLAIMED", "RESOLVED", "ESCALATED", name="casestatus"),
            nullable=False,
        ),
        sa.Column("crisis", sa.Boolean(), nullable=False),
        sa.Column("crisis_score", sa.Float(), nullable=False),
        sa.Column("support", sa.String(), nullable=True),
        sa.Column("reasons", sa.String(), nullable=False),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("policy_version", sa.String(), nullable=False),
        sa.Column("message_hmac", sa.String(), nullable=False),
        sa.Column("message_length", sa.Integer(), nullable=False),
        sa.Column("message_text", sa.String(), nullable=True),
        sa.Column("sla_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("corrected_label", sa.String(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_priority"), ["priority"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_status"), ["status"], unique=False)


def _create_policyversion() -> None:
    """The policyversion table."""
    op.create_table(
        "policyversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def _create_principal() -> None:
    """The principal table."""
    op.create_table(
        "principal",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.Enum("PLATFORM", "COUNSELOR", "LEAD", name="role"), nullable=False),
        sa.Column("key_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("principal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_principal_key_hash"), ["key_hash"], unique=True)


def _create_outboxrow() -> None:
    """The outboxrow table."""
    op.create_table(
        "outboxrow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column(
            "status", sa.Enum("PENDING", "SENDING", "SENT", name="outboxstatus"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    with op.batch_alter_table("outboxrow", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outboxrow_status"), ["status"], unique=False)


def _audit_triggers() -> None:
    """The triggers that refuse changes to audit records."""
    for statement in audit_triggers(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    """Drop everything (the audit trail with it)."""
    with op.batch_alter_table("outboxrow", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outboxrow_status"))

    op.drop_table("outboxrow")
    with op.batch_alter_table("principal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_principal_key_hash"))

    op.drop_table("principal")
    op.drop_table("policyversion")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_status"))
        batch_op.drop_index(batch_op.f("ix_case_priority"))
        batch_op.drop_index(batch_op.f("ix_case_created_at"))
        batch_op.drop_index(batch_op.f("ix_case_conversation_id"))

    op.drop_table("case")
    with op.batch_alter_table("auditrecord", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditrecord_event"))
        batch_op.drop_index(batch_op.f("ix_auditrecord_case_id"))

    op.drop_table("auditrecord")
