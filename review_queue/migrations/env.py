"""Alembic environment: migrations run on a connection the caller opens (see schema.py)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from review_queue import models  # noqa: F401  (registers the tables)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
