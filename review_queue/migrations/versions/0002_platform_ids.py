"""The platform's ids on each case (message, writer) and its metadata: links back to it.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns (nullable: older cases have none); the ids indexed for lookups."""
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("user_id", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("platform_metadata", sa.String(), nullable=True))
        batch_op.create_index(batch_op.f("ix_case_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    """Drop the columns."""
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_user_id"))
        batch_op.drop_index(batch_op.f("ix_case_message_id"))
        batch_op.drop_column("platform_metadata")
        batch_op.drop_column("user_id")
        batch_op.drop_column("message_id")
