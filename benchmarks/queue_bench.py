"""Benchmark the human path: route() + persist + enqueue, and route -> worker latency.

Runs a real redis-server, a real Celery worker process and the relay, on SQLite in a temporary
folder. Prints a table and writes reports/bench-queue.json and reports/bench-queue.md.

    .venv/bin/python benchmarks/queue_bench.py [--messages 2000] [--models models]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from machine import describe_cpu
from sqlmodel import col, select

from review_queue.celery_app import make_celery
from review_queue.models import Case
from review_queue.relay import Relay
from triage import Triage

# The Redis and Celery launchers are test harness, not product: they live under tests/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from local_services import CeleryWorker, RedisServer, wait_for  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    """Run the benchmark and write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    redis_server = RedisServer(tmp / "redis")
    redis_server.start()
    triage = Triage(
        crisis_model=str(args.models / "crisis"),
        support_model=str(args.models / "support"),
        state_dir=tmp / "state",
        broker_url=redis_server.url,
        device="cpu",
    )
    env = {
        "TRIAGE_BROKER_URL": redis_server.url,
        "TRIAGE_DATABASE_URL": triage.settings.resolved_database_url(),
        "TRIAGE_STATE_DIR": str(tmp / "state"),
    }
    worker = CeleryWorker(env, tmp / "worker.log")
    worker.start()
    relay = Relay(triage.store, make_celery(redis_server.url))
    stop = threading.Event()
    relay_thread = threading.Thread(target=relay.run_forever, args=(stop, 0.01), daemon=True)
    try:
        triage.route("i want to kill myself (warm-up)")
        relay_thread.start()
        texts = [f"i want to end my life, message {i}" for i in range(args.messages)]
        # 1. route() one message at a time: model + policy + case/outbox/audit commit.
        single = []
        for text in texts[:200]:
            start = time.perf_counter()
            triage.route(text)
            single.append(time.perf_counter() - start)
        # 2. route_many in batches: the same work, batched.
        start = time.perf_counter()
        for i in range(0, len(texts), args.batch):
            triage.route_many(texts[i : i + args.batch])
        batched_s = time.perf_counter() - start
        total = len(texts) + 201
        wait_for(lambda: _delivered(triage) >= total, 600, what="all deliveries")
        with triage.store.session() as s:
            rows = s.exec(
                select(Case.created_at, Case.delivered_at).where(
                    col(Case.delivered_at).is_not(None)
                )
            ).all()
        latency = [(d - c).total_seconds() for c, d in rows if d is not None]
    finally:
        stop.set()
        worker.stop()
        redis_server.kill()
    result = {
        "machine": f"{describe_cpu()}, Python {platform.python_version()}",
        "models": str(args.models),
        "messages": total,
        "route_single_ms": {
            "p50": round(statistics.median(single) * 1000, 2),
            "p95": round(_pct(single, 0.95) * 1000, 2),
            "p99": round(_pct(single, 0.99) * 1000, 2),
        },
        "route_many_msgs_per_s": round(len(texts) / batched_s, 1),
        "batch": args.batch,
        "route_to_worker_s": {
            "p50": round(statistics.median(latency), 3),
            "p95": round(_pct(latency, 0.95), 3),
            "max": round(max(latency), 3),
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-queue.json").write_text(json.dumps(result, indent=2))
    table = (
        "| measure | value |\n|---|---|\n"
        f"| route() + persist, one message (p50 / p95 / p99 ms) | "
        f"{result['route_single_ms']['p50']} / {result['route_single_ms']['p95']} / "
        f"{result['route_single_ms']['p99']} |\n"
        f"| route_many + persist, batch {args.batch} (msg/s) | "
        f"{result['route_many_msgs_per_s']} |\n"
        f"| route -> worker, all flagged (p50 / p95 / max s) | "
        f"{result['route_to_worker_s']['p50']} / {result['route_to_worker_s']['p95']} / "
        f"{result['route_to_worker_s']['max']} |\n"
    )
    (args.out / "bench-queue.md").write_text(
        f"# Queue benchmark\n\n{result['machine']}; models `{args.models}` (backend "
        f"{triage.crisis_stage.backend}); {total} flagged "  # type: ignore[attr-defined]
        f"messages; one Celery worker (solo pool), relay thread, SQLite, local redis-server.\n"
        f"Command: `.venv/bin/python benchmarks/queue_bench.py`\n\n{table}"
    )
    print(table)


def _delivered(triage: Triage) -> int:
    with triage.store.session() as s:
        return len(s.exec(select(Case.id).where(col(Case.delivered_at).is_not(None))).all())


if __name__ == "__main__":
    main()
