"""The same store on a real PostgreSQL server: persistence, triggers, a crash and replay."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from local_services import PostgresServer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select
from tests_support import assert_human

from review_queue.audit import verify
from review_queue.models import Case
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
