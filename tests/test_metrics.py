"""Prometheus metrics on a real port: they move as messages are routed and cases claimed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from local_services import ROOT, RedisServer, free_port, stop_process, wait_for
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from service_support import Running, serve

from review_queue.models import utcnow
from review_queue.queue import ReviewQueue
from review_queue.queue_state import queue_state
from review_queue.store import CaseStore
from triage import Triage
from triage.metrics import QueueCollector
from triage.testing import FailingStage

CRISIS = "i want to kill myself tonight"


@pytest.fixture
def service(make_triage: Callable[..., Triage]) -> Iterator[Running]:
    with serve(make_triage()) as running:
        yield running


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics``, keyed by name and sorted labels."""
    reply = httpx.get(f"{url}/metrics")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(reply.text)
        for s in family.samples
    }


def route(service: Running, message: str) -> dict[str, object]:
    reply = httpx.post(
        f"{service.url}/v1/route",
        json={"message": message},
        headers={"Authorization": f"Bearer {service.keys['platform']}"},
    )
    assert reply.status_code == 200
    body: dict[str, object] = reply.json()
    return body


def test_metrics_count_decisions_and_follow_the_queue(service: Running) -> None:
    urgent = (("action", "urgent_human_review"), ("tier", "urgent"))
    before = scrape(service.url)
    assert before[("triage_queue_up", ())] == 1.0
    assert before.get(("triage_queue_depth", (("tier", "urgent"),)), 0.0) == 0.0
    (build,) = [dict(labels) for name, labels in before if name == "triage_build_info"]
    assert build["policy_version"] == service.triage.policy.version

    decision = route(service, CRISIS)
    route(service, "what time does the group meet on thursday?")
    after = scrape(service.url)
    assert (
        after[("triage_decisions_total", urgent)]
        == before.get(("triage_decisions_total", urgent), 0.0) + 1
    )
    assert after[("triage_route_seconds_count", (("endpoint", "route"),))] == 2
    assert after[("triage_queue_depth", (("tier", "urgent"),))] == 1.0
    assert after[("triage_queue_oldest_unclaimed_seconds", (("tier", "urgent"),))] >= 0.0
    assert after[("triage_outbox_pending", ())] == 1.0  # no relay runs in this test

    ReviewQueue(service.triage.store).claim("alice", str(decision["case_id"]))
    claimed = scrape(service.url)
    assert claimed.get(("triage_queue_depth", (("tier", "urgent"),)), 0.0) == 0.0


def test_fail_safes_are_counted_by_cause(make_triage: Callable[..., Triage]) -> None:
    with serve(make_triage(crisis=FailingStage("crisis"))) as running:
        route(running, "hello there")
        samples = scrape(running.url)
    assert samples[("triage_fail_safe_total", (("cause", "model_error"),))] == 1.0
    # The shipped alert rules only read series the service exports.
    rules = (Path(__file__).parent.parent / "deploy/prometheus/alerts.yml").read_text()
    wanted = set(re.findall(r"\btriage_\w+", rules))
    assert wanted and wanted <= {name for name, _ in samples}, wanted


def test_sla_breaches_are_counted_by_tier(triage: Triage) -> None:
    triage.route(CRISIS)
    assert queue_state(triage.store).sla_breached == {}
    tomorrow = queue_state(triage.store, now=utcnow() + timedelta(days=1))
    assert tomorrow.sla_breached == {"urgent": 1}
    assert tomorrow.oldest_unclaimed_s["urgent"] > 23 * 3600
    assert queue_state(triage.store).sla_breaches_recorded == 0


def test_poison_messages_are_counted_from_the_audit_trail(triage: Triage) -> None:
    case_id = str(triage.route(CRISIS).case_id)
    queue = ReviewQueue(triage.store)
    for _ in range(6):  # the first delivery, then five more: past max_deliveries
        queue.mark_delivered(case_id, max_deliveries=5)
    assert queue_state(triage.store).dead_lettered == 1


def test_a_scrape_answers_when_the_database_is_down(tmp_path: Path) -> None:
    store = CaseStore(
        f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/triage",
        state_dir=tmp_path,
        timeout_s=1,
    )
    registry = CollectorRegistry()
    registry.register(QueueCollector(store))
    assert registry.get_sample_value("triage_queue_up") == 0.0
    assert registry.get_sample_value("triage_queue_depth", {"tier": "urgent"}) is None


@pytest.mark.services
def test_the_relay_process_serves_its_metrics(triage: Triage, tmp_path: Path) -> None:
    case = triage.route(CRISIS)
    broker = RedisServer(tmp_path / "redis")
    broker.start()
    port = free_port()
    env = os.environ | {
        "TRIAGE_STATE_DIR": str(triage.settings.state_dir),
        "TRIAGE_BROKER_URL": broker.url,
        "PYTHONPATH": str(ROOT),
    }
    relay = subprocess.Popen(
        [sys.executable, "-m", "triage.cli", "relay", "--metrics-port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "relay.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url), 60, what="the relay's metrics")
        wait_for(
            lambda: scrape(url).get(("triage_relay_published_total", ()), 0.0) >= 1,
            30,
            what="a published case",
        )
        samples = scrape(url)
    finally:
        stop_process(relay)
        broker.kill()
    assert samples[("triage_outbox_pending", ())] == 0.0
    assert samples[("triage_queue_depth", (("tier", "urgent"),))] == 1.0  # published, unclaimed
    assert case.case_id is not None


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/metrics").status_code == 200
    except httpx.HTTPError:
        return False
