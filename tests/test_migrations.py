"""Schema migrations: a release 0.1.0 database is refused, upgraded, and keeps its audit chain."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel
from typer.testing import CliRunner

from review_queue.audit import verify
from review_queue.queue import ReviewQueue
from review_queue.schema import BASELINE, SchemaRevisionError, current_revision, head_revision
from triage import Triage
from triage.cli import app

RELEASE_010 = Path(__file__).parent / "fixtures" / "release-0.1.0"
runner = CliRunner()


def test_a_new_database_gets_the_schema_the_models_describe(triage: Triage) -> None:
    engine = triage.store.engine
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_a_release_010_database_is_refused_then_upgraded_and_keeps_working(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    shutil.copytree(RELEASE_010, state, ignore=shutil.ignore_patterns("*.py"))
    env = {"TRIAGE_STATE_DIR": str(state)}

    with pytest.raises(SchemaRevisionError, match="triage db upgrade"):
        make_triage(state_dir=state)
    behind = runner.invoke(app, ["db", "current"], env=env)
    assert behind.exit_code == 0 and f"database at {BASELINE}" in behind.output, behind.output

    upgraded = runner.invoke(app, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    assert f"from {BASELINE} to {head_revision()}" in upgraded.output
    again = runner.invoke(app, ["db", "upgrade"], env=env)
    assert "already at" in again.output

    triage = make_triage(state_dir=state)
    with triage.store.session() as s:
        assert verify(s, triage.store.anchor).ok  # the 0.1.0 chain, untouched
    d = triage.route("i want to end my life", message_id="msg-42")
    assert d.human and d.message_id == "msg-42"
    queue = ReviewQueue(triage.store)
    assert queue.get(str(d.case_id)).message_id == "msg-42"
    old_cases = [c for c in queue.open_cases() if c.id != d.case_id]
    assert len(old_cases) == 2 and all(c.message_id is None for c in old_cases)
    with triage.store.session() as s:
        report = verify(s, triage.store.anchor)
    assert report.ok and report.records == 7  # six records of 0.1.0, one decision now

    exported = tmp_path / "corrections.jsonl"
    assert queue.export_corrections(exported) == 1  # the case 0.1.0 resolved
    (row,) = [json.loads(line) for line in exported.read_text().splitlines()]
    assert row["label"] == "emotional_support" and row["message_id"] is None
