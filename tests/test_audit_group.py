"""Audit records of decisions that open no case, committed in groups: what is kept, and when."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlmodel import func, select
from tests_support import assert_human

from review_queue.audit import verify
from review_queue.models import AuditRecord
from triage import Triage

CALM = ["thanks, that helped a lot", "see you tomorrow", "what time is it?", "nice weather"]


def decision_records(db: Path) -> int:
    """Decision records another reader of the database sees."""
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM auditrecord").fetchone()[0])


def wait_for_records(db: Path, count: int) -> None:
    deadline = time.monotonic() + 5
    while decision_records(db) < count:
        assert time.monotonic() < deadline, f"fewer than {count} audit records were committed"
        time.sleep(0.02)


def test_a_full_group_commits_and_a_case_commits_at_once_without_the_group(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    triage = make_triage(audit_group_size=3, audit_group_seconds=60)
    db = tmp_path / "state" / "triage.db"
    triage.route_many(CALM[:2])
    time.sleep(0.2)
    assert decision_records(db) == 0  # open group: two records in memory
    triage.route(CALM[2])
    wait_for_records(db, 3)  # full: committed long before its seconds are up
    triage.route(CALM[3])
    flagged = triage.route("i'm going to end my life tonight")
    assert flagged.human and decision_records(db) == 4  # the case, before route() returned
    triage.close()
    with triage.store.session() as s:
        records = s.exec(select(AuditRecord).order_by(AuditRecord.seq)).all()
        assert [r.case_id for r in records[-2:]] == [flagged.case_id, None]
        assert records[-1].at < records[-2].at  # routed first, committed after: its own time
        assert verify(s, triage.store.anchor).ok


def test_an_open_group_is_committed_within_its_seconds_without_more_traffic(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    triage = make_triage(audit_group_size=100, audit_group_seconds=0.2)
    triage.route(CALM[0])
    wait_for_records(tmp_path / "state" / "triage.db", 1)


def test_a_group_the_database_refuses_is_spooled_and_the_next_message_goes_to_a_person(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    triage = make_triage(database_timeout_s=0.2, audit_group_size=4, audit_group_seconds=60)
    triage.route(CALM[0])
    blocker = sqlite3.connect(tmp_path / "state" / "triage.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        calm = triage.route(CALM[1])  # joins the group: the database is not asked
        triage.store.flush()  # the group meets the outage
        after = triage.route(CALM[2])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert not calm.human and triage.store.spool.pending()
    assert_human(after, "fail_safe:database_error")  # the outage is known: a person looks
    triage.route(CALM[3])  # the database is back: committed at once, the spool replayed
    assert not triage.store.spool.pending()
    with triage.store.session() as s:
        assert s.exec(select(func.count()).select_from(AuditRecord)).one() == 4
        assert verify(s, triage.store.anchor).ok


def test_close_commits_the_open_group_and_a_crash_loses_at_most_one_group(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    script = f"""
import os, sys
from triage import Triage
t = Triage(crisis_model={str(tiny_models["crisis"])!r},
           support_model={str(tiny_models["support"])!r}, state_dir=sys.argv[1], device="cpu",
           audit_group_size=8, audit_group_seconds=60)
for i in range(20):
    t.route(f"message {{i}}")
if sys.argv[2] == "crash":
    os._exit(1)
t.close()
"""
    for mode in ("crash", "close"):
        state = tmp_path / mode
        subprocess.run([sys.executable, "-c", script, str(state), mode], check=False, timeout=120)
        kept = decision_records(state / "triage.db")
        assert kept == 20 if mode == "close" else 20 - 2 * 8 < kept <= 20
