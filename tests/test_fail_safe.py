"""Break the model, the policy and the database for real: every message still reaches a human."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlmodel import select
from tests_support import assert_human, assert_nan_stage_one_goes_to_a_human
from tiny_models import tiny_stage

from review_queue.audit import verify
from review_queue.models import AuditRecord, Case
from triage import Triage
from triage.testing import FixedStage, support_result


def test_when_model_outputs_nan_then_human_with_reason(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    broken = tiny_stage(tmp_path / "broken", "crisis", corrupt=True)
    triage = make_triage(crisis_model=str(broken))
    assert_nan_stage_one_goes_to_a_human(triage, "hello, what are your opening hours?")


def test_when_model_raises_then_only_that_batch_member_fails(triage: Triage) -> None:
    # Shrink the embedding table: any token id past 100 now raises IndexError inside torch.
    model = triage.support_stage.model  # type: ignore[attr-defined]
    model.resize_token_embeddings(100)
    decisions = triage.route_many(["", "zebra quantum xylophone"])
    assert decisions[0].reasons == ["empty_message"]
    assert_human(decisions[1], "fail_safe:model_error")
    assert any(r.startswith("stage_failed:support:") for r in decisions[1].reasons)


def test_when_model_broken_safety_net_still_reports_crisis(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    broken = tiny_stage(tmp_path / "broken", "crisis", corrupt=True)
    d = make_triage(crisis_model=str(broken)).route("i want to kill myself")
    assert_human(d, "fail_safe:model_error")
    assert d.crisis and "safety_net:self_harm_intent" in d.reasons


def test_when_policy_cannot_judge_then_human(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    # A support model trained with a label set the policy does not know: a real misconfiguration.
    odd = FixedStage("support", support_result("neutral").model_copy(update={"label": "chit_chat"}))
    triage = make_triage(support=odd)
    decisions = triage.route_many([f"message number {i}" for i in range(20)])
    bad = [d for d in decisions if d.support is None and "fail_safe:policy_error" in d.reasons]
    assert len(bad) == 20  # every message hit the broken path, and every one reached a person
    assert all(d.human and d.case_id for d in bad)


def test_when_database_locked_then_spooled_and_replayed(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    triage = make_triage(database_timeout_s=0.2)
    triage.route("warm up")
    db = tmp_path / "state" / "triage.db"
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        flagged = triage.route("i'm going to end my life tonight")
        calm = triage.route("thanks, that helped a lot")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert_human(flagged, "fail_safe:database_error")
    assert_human(calm, "fail_safe:database_error")  # unknown state: a person looks
    assert triage.store.spool.pending()

    triage.route("database is back")  # the next successful write replays the spool
    assert not triage.store.spool.pending()
    with triage.store.session() as s:
        for d in (flagged, calm):
            case = s.get(Case, d.case_id)
            assert case is not None and case.message_text is None
        events = s.exec(select(AuditRecord.case_id)).all()
        assert flagged.case_id in events and calm.case_id in events
        assert verify(s, triage.store.anchor).ok


def test_when_database_file_gone_then_spooled_and_replayed_into_new_database(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    db_dir = tmp_path / "db"
    url = f"sqlite:///{db_dir / 'cases.db'}"
    triage = make_triage(database_url=url)
    for f in db_dir.iterdir():
        f.unlink()
    db_dir.rmdir()  # the volume is gone
    d = triage.route("i have been saving up pills")
    assert_human(d, "fail_safe:database_error")
    db_dir.mkdir()  # the volume is back, empty
    restarted = make_triage(database_url=url)  # a new process replays the spool at start
    with restarted.store.session() as s:
        assert s.get(Case, d.case_id) is not None


def test_when_database_file_replaced_then_no_write_goes_to_the_old_file(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    db_dir = tmp_path / "db"
    triage = make_triage(database_url=f"sqlite:///{db_dir / 'cases.db'}")
    first = triage.route("i have been saving up pills")
    assert "fail_safe:database_error" not in first.reasons  # the pool now holds a connection
    moved = tmp_path / "moved"
    db_dir.rename(moved)  # an operator moves the volume; an empty one takes its place
    db_dir.mkdir()
    d = triage.route("i have been saving up pills")
    # A pooled connection to the moved file would have committed there, unseen: the case
    # must be spooled instead (the new file has no tables yet), and the old file untouched.
    assert_human(d, "fail_safe:database_error")
    with sqlite3.connect(moved / "cases.db") as old:
        assert old.execute("SELECT count(*) FROM 'case'").fetchone() == (1,)


def test_when_spool_replayed_twice_then_no_duplicates(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    triage = make_triage()
    texts = ["i want to die"] * 3
    decisions = triage.route_many(texts)
    # A replay cut short before the spool was truncated: the batch is in the database and
    # in the spool; replaying it again adds nothing.
    triage.store.spool_batch(decisions, texts, triage.policy)
    assert triage.store.replay_spool() == 1
    with triage.store.session() as s:
        assert len(s.exec(select(Case)).all()) == 3
        assert len(s.exec(select(AuditRecord)).all()) == 3


def test_when_spool_entry_can_never_be_stored_then_quarantined_not_blocking(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    triage = make_triage()
    poison = {"cases": [{"id": "broken"}], "events": []}  # required fields missing
    triage.store.spool.append(poison)
    d = triage.route("i want to end my life")  # the write succeeds, then replays the spool
    assert not triage.store.spool.pending()
    assert triage.store.rejected.pending()
    with triage.store.session() as s:
        assert s.get(Case, d.case_id) is not None
