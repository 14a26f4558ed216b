"""An archive scored by real Celery worker processes: the same decisions, resumable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from local_services import CeleryWorker, RedisServer
from sqlmodel import func, select
from test_archive import MESSAGES, read_decisions, write_csv
from tests_support import settings_env

from review_queue.celery_app import make_celery
from review_queue.models import Case
from triage import Triage
from triage.archive import score_archive
from triage.archive_celery import chunk_output, parts_dir, score_on_workers, split_archive

pytestmark = [pytest.mark.services]
ROWS = [{"id": f"m{i}", "text": t, "region": "GB"} for i, t in enumerate(MESSAGES * 3)]


@pytest.fixture
def workers(
    make_triage: Callable[..., Triage], redis_server: RedisServer, tmp_path: Path
) -> Iterator[tuple[Triage, Callable[[], CeleryWorker]]]:
    """A triage in this process and a factory of archive workers on its models and database."""
    triage = make_triage(broker_url=redis_server.url)
    env = settings_env(triage) | {"TRIAGE_BROKER_URL": redis_server.url}
    started: list[CeleryWorker] = []

    def worker() -> CeleryWorker:
        w = CeleryWorker(env, tmp_path / f"worker{len(started)}.log", queues="archive")
        w.start()
        started.append(w)
        return w

    yield triage, worker
    for w in started:
        w.stop()


def test_two_workers_score_an_archive_as_one_process_does_and_open_its_cases(
    workers: tuple[Triage, Callable[[], CeleryWorker]], redis_server: RedisServer, tmp_path: Path
) -> None:
    triage, worker = workers
    worker(), worker()
    app = make_celery(redis_server.url)
    archive = write_csv(tmp_path / "archive.csv", ROWS)
    here = tmp_path / "here.jsonl"
    score_archive(triage, archive, here, chunk_size=4, dry_run=True)
    out = tmp_path / "decisions.jsonl"
    summary = score_on_workers(app, archive, out, chunk_size=4, dry_run=True, timeout_s=180)
    got, want = read_decisions(out), read_decisions(here)
    assert [d["message_id"] for d in got] == [r["id"] for r in ROWS]  # input order, once each
    assert [(d["action"], d["tier"]) for d in got] == [(d["action"], d["tier"]) for d in want]
    assert summary.rows == len(ROWS) and not parts_dir(out).exists()

    live = score_on_workers(app, archive, tmp_path / "live.jsonl", chunk_size=4, timeout_s=180)
    with triage.store.session() as s:  # the workers opened the cases in the shared database
        cases = s.exec(select(func.count()).select_from(Case)).one()
    assert (
        cases
        == sum(d["human"] for d in want)
        == sum(n for tier, n in live.tiers.items() if tier != "none")
    )


def test_chunks_scored_before_are_not_sent_again(
    workers: tuple[Triage, Callable[[], CeleryWorker]], redis_server: RedisServer, tmp_path: Path
) -> None:
    triage, worker = workers
    archive = write_csv(tmp_path / "archive.csv", ROWS)
    out = tmp_path / "decisions.jsonl"
    parts = parts_dir(out)
    split_archive(archive, parts, "text", 4)
    chunk_output(parts, 0).write_text("")  # as if a worker had scored chunk 0 to nothing
    worker()
    summary = score_on_workers(
        make_celery(redis_server.url), archive, out, chunk_size=4, dry_run=True, timeout_s=180
    )
    assert summary.rows == len(ROWS) - 4  # chunk 0 was taken as done, not scored again
    assert read_decisions(out)[0]["message_id"] == "m4"
