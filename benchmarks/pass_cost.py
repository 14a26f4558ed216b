"""What one forward pass of a stage costs on one CPU core, by batch size and padded length.

The cost model behind length-bucketed batching (``stages/batching.py``): a fixed cost per pass
plus a cost per padded token. Fits both by least squares (relative error) over the grid and writes
reports/bench-pass-cost.json and .md.

    .venv/bin/python benchmarks/pass_cost.py [--model models/crisis] [--backend onnx]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from machine import describe_cpu

from stages.backends import load_scorer

BATCHES = [1, 4, 16, 32]
LENGTHS = [8, 16, 32, 64]


def main() -> None:
    """Time the grid, fit fixed + per-token cost, write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=Path("models/crisis"))
    parser.add_argument("--backend", default="onnx", choices=["torch", "onnx", "onnx-int8"])
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args()
    if args.backend == "torch":
        import torch

        torch.set_num_threads(1)
    scorer = load_scorer(args.backend, str(args.model), "cpu", threads=1)
    rng = np.random.default_rng(13)
    rows = []
    for n in BATCHES:
        for length in LENGTHS:
            ids = rng.integers(1000, 20000, size=(n, length), dtype=np.int64)
            mask = np.ones_like(ids)
            for _ in range(3):
                scorer(ids, mask)
            times = []
            for _ in range(max(5, 64 // n)):
                start = time.perf_counter()
                scorer(ids, mask)
                times.append(time.perf_counter() - start)
            rows.append({"batch": n, "tokens": length, "ms": statistics.median(times) * 1000})
    padded = np.array([r["batch"] * r["tokens"] for r in rows], dtype=float)
    ms = np.array([r["ms"] for r in rows])
    # Relative error, not absolute: chat messages make small passes, which must fit too.
    per_token, fixed = np.polyfit(padded, ms, 1, w=1 / ms)
    result = {
        "machine": f"{describe_cpu()}, one thread",
        "model": str(args.model),
        "backend": args.backend,
        "grid": rows,
        "fixed_ms_per_pass": round(float(fixed), 3),
        "ms_per_padded_token": round(float(per_token), 4),
        "pass_overhead_in_tokens": round(float(fixed / per_token), 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-pass-cost.json").write_text(json.dumps(result, indent=2) + "\n")
    table = "| batch | " + " | ".join(f"{t} tokens" for t in LENGTHS) + " |\n"
    table += "|---|" + "---|" * len(LENGTHS) + "\n"
    for n in BATCHES:
        cells = [f"{r['ms']:.1f} ms" for r in rows if r["batch"] == n]
        table += f"| {n} | " + " | ".join(cells) + " |\n"
    summary = (
        f"Fit: {result['fixed_ms_per_pass']} ms per pass + {result['ms_per_padded_token']} ms "
        f"per padded token, so a pass costs as much as {result['pass_overhead_in_tokens']} "
        "more tokens."
    )
    (args.out / "bench-pass-cost.md").write_text(
        f"# One forward pass on one CPU core\n\n{result['machine']}; `{args.model}` "
        f"({args.backend}); medians.\nCommand: `.venv/bin/python benchmarks/pass_cost.py`\n\n"
        f"{table}\n{summary}\n"
    )
    print(table + "\n" + summary)


if __name__ == "__main__":
    main()
