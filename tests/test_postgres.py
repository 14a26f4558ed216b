"""The same store on a real PostgreSQL server: persistence, triggers, a crash and replay."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from local_services import PostgresServer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel, select
from tests_support import assert_human

from review_queue.audit import verify
from review_queue.models import Case
from review_queue.schema import (
    BASELINE,
    MIGRATIONS,
    SchemaRevisionError,
    head_revision,
    upgrade,
)
from triage import Triage

pytestmark = [pytest.mark.postgres]


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.remove()


def test_cases_and_audit_on_postgres(
    make_triage: Callable[..., Triage], postgres: PostgresServer
) -> None:
    triage = make_triage(database_url=postgres.url)
    d = triage.route("i want to kill myself")
    with triage.store.session() as s:
        assert s.get(Case, d.case_id) is not None
        assert verify(s, triage.store.anchor).ok


@pytest.mark.parametrize(
    "sql", ["UPDATE auditrecord SET actor = 'x'", "DELETE FROM auditrecord", "TRUNCATE auditrecord"]
)
def test_postgres_refuses_changes_to_audit(
    make_triage: Callable[..., Triage], postgres: PostgresServer, sql: str
) -> None:
    triage = make_triage(database_url=postgres.url)
    triage.route("hello")
    with triage.store.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(sql))


def test_postgres_crash_then_spool_replay(
    make_triage: Callable[..., Triage], postgres: PostgresServer
) -> None:
    triage = make_triage(database_url=postgres.url, database_timeout_s=2)
    triage.route("warm up")
    postgres.stop("immediate")
    try:
        d = triage.route("i'm going to end my life tonight")
        assert_human(d, "fail_safe:database_error")
    finally:
        postgres.start()
    triage.route("database is back")
    with triage.store.session() as s:
        assert s.exec(select(Case).where(Case.id == d.case_id)).one().crisis
        assert verify(s, triage.store.anchor).ok


def test_postgres_schema_comes_from_the_migrations_and_upgrades_from_the_baseline(
    make_triage: Callable[..., Triage], postgres: PostgresServer
) -> None:
    engine = make_triage(database_url=postgres.url).store.engine
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:  # back to the schema release 0.1.0 made
        config.attributes["connection"] = conn
        command.downgrade(config, BASELINE)

    with pytest.raises(SchemaRevisionError, match="triage db upgrade"):
        make_triage(database_url=postgres.url)
    assert upgrade(engine) == (BASELINE, head_revision())
    triage = make_triage(database_url=postgres.url)
    d = triage.route("i want to kill myself", message_id="pg-1")
    with triage.store.session() as s:
        assert s.get(Case, d.case_id).message_id == "pg-1"  # type: ignore[union-attr]
        assert verify(s, triage.store.anchor).ok
