"""The audit chain refuses edits and names the first broken record when one is forced."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from review_queue.audit import verify
from triage import Triage


@pytest.fixture
def audited(make_triage: Callable[..., Triage], tmp_path: Path) -> tuple[Triage, Path]:
    triage = make_triage()
    triage.route_many([f"message {i}" for i in range(6)] + ["i want to kill myself"])
    return triage, tmp_path / "state" / "triage.db"


def _verify(triage: Triage):
    with triage.store.session() as s:
        return verify(s, triage.store.anchor)


def _raw(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")  # an attacker with file access can do this
    conn.execute("DROP TRIGGER audit_no_delete")
    return conn


def test_untouched_chain_verifies(audited: tuple[Triage, Path]) -> None:
    report = _verify(audited[0])
    assert report.ok and report.records == 7


@pytest.mark.parametrize(
    "sql", ["UPDATE auditrecord SET actor='x' WHERE seq=3", "DELETE FROM auditrecord WHERE seq=3"]
)
def test_database_refuses_update_and_delete(audited: tuple[Triage, Path], sql: str) -> None:
    conn = sqlite3.connect(audited[1], isolation_level=None)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(sql)


@pytest.mark.parametrize(
    ("statements", "first_broken"),
    [
        (
            ["UPDATE auditrecord SET payload=replace(payload,'\"human\"','\"Human\"') WHERE seq=3"],
            3,
        ),
        (["DELETE FROM auditrecord WHERE seq=4"], 4),
        # reorder: swap the contents of records 2 and 5
        (
            [
                "UPDATE auditrecord SET seq=-2 WHERE seq=2",
                "UPDATE auditrecord SET seq=2 WHERE seq=5",
                "UPDATE auditrecord SET seq=5 WHERE seq=-2",
            ],
            2,
        ),
        # truncate the tail: only the anchor kept outside the database notices
        (["DELETE FROM auditrecord WHERE seq>=6"], 6),
        # rewrite a record and fix its own hash: the next record's link breaks
        (["UPDATE auditrecord SET actor='mallory', hash='f'||substr(hash,2) WHERE seq=4"], 4),
    ],
)
def test_tampering_is_reported_at_the_first_broken_record(
    audited: tuple[Triage, Path], statements: list[str], first_broken: int
) -> None:
    triage, db = audited
    conn = _raw(db)
    for sql in statements:
        conn.execute(sql)
    conn.close()
    report = _verify(triage)
    assert not report.ok
    assert report.first_broken_seq == first_broken, report


def test_anchor_written_from_many_threads_ends_at_the_newest_head(tmp_path: Path) -> None:
    # A web service commits on many threads: no writer may trip over another's temporary
    # file, and a slower thread with an older head must not move the anchor back.
    from concurrent.futures import ThreadPoolExecutor

    from review_queue.audit import Head, write_anchor

    anchor = tmp_path / "audit.head"
    heads = [Head(n, f"h{n}") for n in range(1, 401)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda h: write_anchor(anchor, h), reversed(heads)))
    assert anchor.read_text() == "400 h400\n"
