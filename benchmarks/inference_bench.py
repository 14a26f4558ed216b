"""CPU inference benchmark: route() latency and route_many throughput (PyTorch backend).

Messages are sampled from the GoEmotions test split (realistic chat length). Prints a table
and writes reports/bench-inference.json and reports/bench-inference.md.

    .venv/bin/python benchmarks/inference_bench.py [--models models] [--n 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

import torch

from training.data import data_dir, load_goemotions
from triage import Triage


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    """Run the benchmark and write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--n", type=int, default=300, help="Messages for the latency run.")
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args()
    texts = load_goemotions(data_dir())["test"]["text"]
    sample = random.Random(13).sample(texts, args.n)
    triage = Triage(
        crisis_model=str(args.models / "crisis"),
        support_model=str(args.models / "support"),
        state_dir=Path(tempfile.mkdtemp(prefix="triage-bench-")),
        device="cpu",
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for text in sample[:20]:
        triage.route(text)
    # route(): stages + policy + audit commit (SQLite, synchronous=FULL).
    latency = []
    for text in sample:
        start = time.perf_counter()
        triage.route(text)
        latency.append(time.perf_counter() - start)
    # The models alone (no database), to show where the time goes.
    models_only = []
    for text in sample[:100]:
        start = time.perf_counter()
        triage.safety_net.predict([text])
        triage.crisis_stage.predict([text])
        triage.support_stage.predict([text])
        models_only.append(time.perf_counter() - start)
    throughput = {}
    for batch in (1, 8, 32, 128):
        chunk = (sample * 2)[: max(batch * 4, 128)]
        start = time.perf_counter()
        for i in range(0, len(chunk), batch):
            triage.route_many(chunk[i : i + batch])
        throughput[batch] = round(len(chunk) / (time.perf_counter() - start), 1)
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        "backend": "pytorch fp32",
        "models": str(args.models),
        "base_models": [triage.crisis_stage.card.base_model, triage.support_stage.card.base_model],
        "route_ms": {
            q: round(_pct(latency, p) * 1000, 2)
            for q, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
        },
        "models_only_ms_p50": round(statistics.median(models_only) * 1000, 2),
        "route_many_msgs_per_s": throughput,
        "rss_mb_after_load": round(rss_mb, 1),
        "messages": len(sample),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-inference.json").write_text(json.dumps(result, indent=2))
    rows = "".join(f"| route_many, batch {b} | {v} msg/s |\n" for b, v in throughput.items())
    table = (
        "| measure | value |\n|---|---|\n"
        f"| route() p50 / p95 / p99 | {result['route_ms']['p50']} / {result['route_ms']['p95']}"
        f" / {result['route_ms']['p99']} ms |\n"
        f"| three stages alone, p50 | {result['models_only_ms_p50']} ms |\n{rows}"
        f"| RSS with Triage() loaded | {result['rss_mb_after_load']} MB |\n"
    )
    (args.out / "bench-inference.md").write_text(
        f"# Inference benchmark (CPU)\n\n{result['machine']}; backend {result['backend']}; "
        f"models `{args.models}` ({', '.join(str(b) for b in result['base_models'])}); "
        f"{len(sample)} GoEmotions test messages.\nCommand: `make bench`\n\n{table}"
    )
    print(table)


if __name__ == "__main__":
    main()
