"""The case database's schema revision: create it, check it, upgrade it (Alembic).

A new, empty database is brought to the code's revision by the migrations themselves, so a
fresh install and an upgraded one have the same tables and triggers. A database behind the
code is never changed silently: ``SchemaRevisionError`` names the command that upgrades it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine

from stages.errors import TriageError

MIGRATIONS = Path(__file__).parent / "migrations"
BASELINE = "0001"  # the schema of release 0.1.0, whose databases carry no revision
_PG_LOCK = 7_402_911  # advisory lock key: one process migrates at a time


class SchemaRevisionError(TriageError):
    """The database is at another schema revision than this code (upgrade it first)."""


def _config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def head_revision() -> str:
    """The schema revision this code needs."""
    head = _scripts().get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision (``BASELINE`` if made before migrations; None if empty)."""
    with engine.connect() as conn:
        found = MigrationContext.configure(conn).get_current_revision()
        if found is None and inspect(conn).has_table("case"):
            return BASELINE
        return found


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # replicas starting together migrate once
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        yield conn


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the code's revision; (revision before, revision after)."""
    with _migrating(engine) as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        cfg = _config(conn)
        if before is None and inspect(conn).has_table("case"):
            command.stamp(cfg, BASELINE)  # tables made by 0.1.0: they are the baseline
            before = BASELINE
        command.upgrade(cfg, "head")
    return before, head_revision()


def prepare(engine: Engine) -> None:
    """Create the schema in an empty database; refuse one behind the code's revision."""
    found = current_revision(engine)
    if found is None:
        upgrade(engine)
        return
    head = head_revision()
    known = {r.revision for r in _scripts().walk_revisions()}
    if found not in known:
        raise SchemaRevisionError(
            f"the case database is at schema revision {found}, newer than this code knows: "
            "run the release that upgraded it"
        )
    if found != head:
        raise SchemaRevisionError(
            f"the case database is at schema revision {found}, this code needs {head}: "
            "back it up, then run `triage db upgrade`"
        )
