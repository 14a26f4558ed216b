"""Benchmark archive scoring: one process against 1 and 2 Celery workers (`triage score`).

Scores GoEmotions test messages as an archive (dry run: decisions only) with
``score_archive`` in this process, then with ``score_on_workers`` on a real redis-server and
1, then 2, real Celery worker processes on the ``archive`` queue. Workers load their models on
a first small archive before the timed run. Writes reports/bench-archive.json and .md.

    .venv/bin/python benchmarks/archive_bench.py [--messages 4000] [--chunk 256]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from machine import describe_cpu

from review_queue.celery_app import make_celery
from training.data import data_dir
from training.tasks import support_task
from triage import Triage
from triage.archive import score_archive
from triage.archive_celery import score_on_workers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from local_services import CeleryWorker, RedisServer  # noqa: E402


def _archive(path: Path, texts: list[str]) -> Path:
    rows = [{"id": f"m{i}", "text": t} for i, t in enumerate(texts)]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def main() -> None:
    """Run the three measurements and write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="triage-archive-bench-"))
    texts = (list(support_task(data_dir()).test["text"]) * 2)[: args.messages]
    archive = _archive(tmp / "archive.parquet", texts)
    warm = _archive(tmp / "warm.parquet", texts[:64])
    models = {
        "crisis_model": str(args.models / "crisis"),
        "support_model": str(args.models / "support"),
    }
    rates: dict[str, float] = {}

    triage = Triage(**models, state_dir=tmp / "state", device="cpu")
    score_archive(triage, warm, tmp / "warm-here.jsonl", chunk_size=args.chunk, dry_run=True)
    start = time.perf_counter()
    score_archive(triage, archive, tmp / "here.jsonl", chunk_size=args.chunk, dry_run=True)
    rates["one process, no Celery"] = len(texts) / (time.perf_counter() - start)
    del triage

    redis_server = RedisServer(tmp / "redis")
    redis_server.start()
    app = make_celery(redis_server.url)
    env = {
        "TRIAGE_BROKER_URL": redis_server.url,
        "TRIAGE_STATE_DIR": str(tmp / "state"),
        "TRIAGE_CRISIS_MODEL": models["crisis_model"],
        "TRIAGE_SUPPORT_MODEL": models["support_model"],
        "TRIAGE_DEVICE": "cpu",
    }
    workers: list[CeleryWorker] = []
    try:
        for count in (1, 2):
            for worker in workers:
                worker.stop()
            # The machine's cores shared out: more workers than cores would only contend.
            threads = str(max(1, (os.cpu_count() or 1) // count))
            workers = [
                CeleryWorker(
                    env | {"TRIAGE_THREADS": threads}, tmp / f"w{count}-{i}.log", "archive"
                )
                for i in range(count)
            ]
            for worker in workers:
                worker.start()
            # Enough chunks that every worker takes one and loads its models.
            score_on_workers(app, warm, tmp / f"warm-{count}.jsonl", chunk_size=8, dry_run=True)
            start = time.perf_counter()
            score_on_workers(
                app, archive, tmp / f"celery-{count}.jsonl", chunk_size=args.chunk, dry_run=True
            )
            rates[f"{count} Celery worker{'s' * (count > 1)}"] = len(texts) / (
                time.perf_counter() - start
            )
    finally:
        for worker in workers:
            worker.stop()
        redis_server.kill()

    machine = describe_cpu()
    result = {
        "machine": machine,
        "messages": len(texts),
        "chunk": args.chunk,
        "msgs_per_s": {k: round(v, 1) for k, v in rates.items()},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-archive.json").write_text(json.dumps(result, indent=2) + "\n")
    base = rates["one process, no Celery"]
    table = "| run | messages a second | against one process |\n|---|---|---|\n" + "".join(
        f"| {name} | {rate:.0f} | {rate / base:.2f}x |\n" for name, rate in rates.items()
    )
    (args.out / "bench-archive.md").write_text(
        f"# Archive scoring benchmark\n\n{machine}; {len(texts)} GoEmotions test messages as a "
        f"Parquet archive, dry run, chunks of {args.chunk}; each worker a process with its own "
        f"models (`--pool=solo`), the cores shared out between the workers.\n"
        f"Command: `{' '.join(['python', *sys.argv])}`\n\n{table}"
    )
    print(f"machine: {machine}\n{table}")


if __name__ == "__main__":
    main()
