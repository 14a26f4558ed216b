"""Fault tests on real services: kill Redis, kill a worker; nothing acknowledged is lost."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from local_services import CeleryWorker, RedisServer, wait_for
from prometheus_client import REGISTRY
from sqlmodel import select

from review_queue.audit import verify
from review_queue.celery_app import make_celery
from review_queue.models import AuditRecord, Case
from review_queue.relay import Relay
from triage import Triage

pytestmark = [pytest.mark.services]


@pytest.fixture
def rig(make_triage: Callable[..., Triage], redis_server: RedisServer, tmp_path: Path):
    """A triage, a relay thread, and a worker factory, all on the same database and Redis."""
    triage = make_triage(broker_url=redis_server.url)
    env = {
        "TRIAGE_BROKER_URL": redis_server.url,
        "TRIAGE_DATABASE_URL": triage.settings.resolved_database_url(),
        "TRIAGE_STATE_DIR": str(triage.settings.state_dir),
        "TRIAGE_VISIBILITY_TIMEOUT_S": "3",
        "TRIAGE_DATABASE_TIMEOUT_S": "30",
    }
    workers: list[CeleryWorker] = []

    def worker() -> CeleryWorker:
        w = CeleryWorker(env, tmp_path / f"worker{len(workers)}.log")
        w.start()
        workers.append(w)
        return w

    relay = Relay(
        triage.store, make_celery(redis_server.url), max_backoff_s=1.0, redeliver_after_s=30
    )
    stop = threading.Event()
    thread = threading.Thread(target=relay.run_forever, args=(stop, 0.05), daemon=True)
    thread.start()
    yield triage, worker, relay
    stop.set()
    thread.join(10)
    for w in workers:
        w.stop()


def _delivered(triage: Triage, ids: set[str]) -> int:
    with triage.store.session() as s:
        return len(s.exec(select(Case.id).where(Case.delivered_at.is_not(None))).all())


def _assert_each_delivered_once(triage: Triage, ids: set[str]) -> None:
    with triage.store.session() as s:
        cases = s.exec(select(Case)).all()
        assert {c.id for c in cases} == ids  # none lost, none extra
        assert all(c.delivered_at is not None for c in cases)
        events = Counter(
            s.exec(select(AuditRecord.case_id).where(AuditRecord.event == "case_delivered")).all()
        )
        assert set(events) == ids and set(events.values()) == {1}  # exactly once in effect
        assert verify(s, triage.store.anchor).ok


def test_flagged_cases_reach_a_worker(rig) -> None:
    triage, worker, _ = rig
    worker()
    decisions = triage.route_many([f"i want to kill myself ({i})" for i in range(20)])
    ids = {d.case_id for d in decisions}
    wait_for(lambda: _delivered(triage, ids) == 20, 60, what="20 deliveries")
    _assert_each_delivered_once(triage, ids)


def _relay_count(name: str) -> float:
    """A relay counter of this process, as Prometheus would scrape it."""
    return REGISTRY.get_sample_value(f"triage_relay_{name}_total") or 0.0


def test_kill_redis_while_routing_1000_flagged_messages(rig, redis_server: RedisServer) -> None:
    triage, worker, relay = rig
    worker()
    published, failures = _relay_count("published"), _relay_count("publish_failures")
    ids: set[str] = set()
    for batch in range(20):
        if batch == 6:
            redis_server.kill()  # SIGKILL mid-stream: route() must not notice
        if batch == 14:
            redis_server.start()  # same port, same AOF file
        decisions = triage.route_many(
            [f"i am going to end my life, message {batch}-{i}" for i in range(50)]
        )
        assert all(d.human and d.case_id for d in decisions)
        assert not any("fail_safe" in r for d in decisions for r in d.reasons)
        ids |= {d.case_id for d in decisions}
    assert len(ids) == 1000
    wait_for(lambda: _delivered(triage, ids) == 1000, 240, what="1000 deliveries")
    wait_for(lambda: relay.pending() == 0, 30, what="an empty outbox")
    _assert_each_delivered_once(triage, ids)
    # The relay's metrics saw the outage: failed publishes, then every case published.
    assert _relay_count("publish_failures") > failures
    assert _relay_count("published") - published >= 1000


def test_sigkill_worker_mid_task_then_redelivered(
    rig, redis_server: RedisServer, tmp_path: Path
) -> None:
    triage, worker, _ = rig
    first = worker()
    warm = triage.route("i want to kill myself (warm-up)")
    wait_for(lambda: _delivered(triage, {warm.case_id}) == 1, 60, what="warm-up delivery")

    db = Path(triage.settings.resolved_database_url().split("///", 1)[1])
    lock = sqlite3.connect(db, isolation_level=None, timeout=30)
    d = triage.route("i have a plan to end my life tonight")  # committed before the lock
    lock.execute("BEGIN EXCLUSIVE")  # writers now wait: the worker's task, and the relay
    # The relay cannot mark rows while the database is locked, so publish as it would.
    make_celery(redis_server.url).send_task(
        "review_queue.deliver_case", args=[d.case_id], task_id=f"case-{d.case_id}"
    )
    unacked = redis_server.client()
    wait_for(lambda: unacked.hlen("unacked") == 1, 60, what="the task to be mid-flight")
    first.kill()  # SIGKILL while the task holds its message unacknowledged
    lock.execute("ROLLBACK")
    lock.close()
    worker()  # a fresh worker; the broker redelivers after the visibility timeout
    # Two messages for the case: the redelivered one and the relay's own publish, once
    # the lock is gone. Both are handled; the case is delivered once in effect.
    wait_for(lambda: _deliveries(triage, d.case_id) == 2, 240, what="redelivery")
    wait_for(lambda: unacked.hlen("unacked") == 0, 60, what="no unacknowledged task")
    _assert_each_delivered_once(triage, {warm.case_id, d.case_id})
    with triage.store.session() as s:
        assert "urgent_human_review" in json.dumps(s.get(Case, d.case_id).decision)


def _deliveries(triage: Triage, case_id: str) -> int:
    with triage.store.session() as s:
        return s.get(Case, case_id).deliveries
