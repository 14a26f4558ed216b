"""Inference benchmark: route() latency, route_many throughput, memory and accuracy per backend.

Each backend runs in its own process (so its resident memory is its own) on the same messages:
a sample of the GoEmotions test split (realistic chat length). With ``--two-encoders DIR``
(a stage two fine-tuned as a model of its own) the run adds ``onnx+two-encoders`` (on a GPU
``torch-fp16+two-encoders``): that stage two beside stage one, as routing ran before stage
two became a head on stage one's encoder. Accuracy cost is measured in the same run against
the first backend: support weighted F1 on GoEmotions test messages and stage-one recall on
validation r/SuicideWatch posts. Exports the ONNX graphs first when missing.
Writes reports/bench-inference[-gpu].json and .md and prints the table.

    .venv/bin/python benchmarks/inference_bench.py [--models models] [--device cpu|cuda]
        [--two-encoders models/support-finetuned]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from machine import describe_cpu

CPU_BACKENDS = ["torch", "onnx", "onnx-int8"]
GPU_BACKENDS = ["torch", "torch-fp16", "torch-bf16"]
CPU_BATCHES = [1, 8, 32, 128]
GPU_BATCHES = [1, 32, 128, 512, 2048]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(values: list[float]) -> dict[str, float]:
    return {
        q: round(_pct(values, p) * 1000, 2) for q, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One backend, in this process."""
    from sklearn.metrics import f1_score

    from stages.head import HeadStage
    from stages.labels import CRISIS
    from training.data import data_dir, load_sdcnl
    from training.tasks import support_task
    from triage import Triage

    backend, _, mode = args.backend.partition("+")
    support = args.two_encoders if mode == "two-encoders" else args.models / "support"
    triage = Triage(
        crisis_model=str(args.models / "crisis"),
        support_model=str(support),
        state_dir=Path(tempfile.mkdtemp(prefix="triage-bench-")),
        device=args.device,
        backend=backend,
        threads=args.threads,
        batch_size=args.batch_size,
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before any data
    root = data_dir()
    test = support_task(root).test
    assert test is not None
    texts = test["text"]
    sample = random.Random(13).sample(texts, args.n)
    for text in sample[:20]:
        triage.route(text)
    route = []  # stages + policy + audit commit (SQLite, synchronous=FULL)
    for text in sample:
        start = time.perf_counter()
        triage.route(text)
        route.append(time.perf_counter() - start)
    policy = triage.policy
    stages = []  # the stages as route() runs them, no policy or database: where the time goes
    for text in sample:
        start = time.perf_counter()
        triage._stage_results(policy, [text])
        stages.append(time.perf_counter() - start)
    throughput: dict[str, float] = {}
    model_throughput: dict[str, float] = {}
    for batch in args.batches:
        chunk = (sample * (1 + 8 * batch // len(sample)))[: max(8 * batch, 256)]

        def rate(run: Any, chunk: list[str] = chunk, batch: int = batch) -> float:
            """Messages a second over ``chunk``: the median of three passes (a shared VM)."""
            rates = []
            for _ in range(3):
                start = time.perf_counter()
                for i in range(0, len(chunk), batch):
                    run(chunk[i : i + batch])
                rates.append(len(chunk) / (time.perf_counter() - start))
            return round(float(np.median(rates)), 1)

        throughput[str(batch)] = rate(triage.route_many)
        model_throughput[str(batch)] = rate(lambda texts: triage._stage_results(policy, texts))

    # Accuracy on the same slices for every backend.
    gold = np.array(test["label"][: args.accuracy_n])
    got = [r.label for r in triage.support_stage.predict(texts[: args.accuracy_n])]
    labels = triage.support_stage.card.labels  # type: ignore[attr-defined]
    weighted_f1 = f1_score(gold, [labels.index(g) for g in got], average="weighted")
    posts = load_sdcnl(root)["validation"]  # the slice stage one's threshold was tuned on
    sw = [t for t, y in zip(posts["text"], posts["is_suicide"], strict=True) if y == 1]
    flags = [r.label == CRISIS for r in triage.crisis_stage.predict(sw)]
    return {
        "backend": triage.crisis_stage.backend,  # type: ignore[attr-defined]
        "stage_two": (
            "head on stage one's pass"
            if isinstance(triage.support_stage, HeadStage)
            else "own model" + (", beside stage one" if triage._beside else "")
        ),
        "route_ms": _ms(route),
        "stages_ms": _ms(stages),
        "route_many_msgs_per_s": throughput,
        "stages_msgs_per_s": model_throughput,
        "rss_mb_after_load": round(rss_mb, 1),
        "support_weighted_f1": round(float(weighted_f1), 4),
        "crisis_recall_suicidewatch": round(sum(flags) / len(flags), 4),
        "base_models": [triage.crisis_stage.card.base_model, triage.support_stage.card.base_model],  # type: ignore[attr-defined]
    }


def _machine(device: str) -> str:
    import torch

    if device == "cuda":
        return f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
    return f"{describe_cpu()}, torch {torch.__version__}, {torch.get_num_threads()} threads"


def _export_missing(models: list[Path]) -> None:
    from stages.backends import LAYER_MEANS, onnx_outputs, onnx_path
    from stages.head import encoder_dir_of
    from training.export import export_onnx

    for model in models:
        model = encoder_dir_of(model) or model  # a head runs on its encoder's graph
        graph = onnx_path(model, "onnx")
        if not (
            onnx_path(model, "onnx-int8").exists()
            and graph.exists()
            and LAYER_MEANS in onnx_outputs(graph)
        ):
            print(f"exporting {model} to ONNX", flush=True)
            export_onnx(model)


def main() -> None:
    """Run every backend in a child process, then write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--backends", nargs="*", default=None)
    parser.add_argument("--batches", nargs="*", type=int, default=None)
    parser.add_argument("--n", type=int, default=1000, help="Messages for the latency runs.")
    parser.add_argument("--accuracy-n", type=int, default=1000, help="Test messages for F1.")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--two-encoders", type=Path, default=None, help="A stage two with a model of its own."
    )
    parser.add_argument("--batch-size", type=int, default=None, help="Model batch (Settings).")
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--backend", help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    gpu = args.device == "cuda"
    args.batches = args.batches or (GPU_BATCHES if gpu else CPU_BATCHES)
    args.batch_size = args.batch_size or (512 if gpu else 32)
    if args.backend:
        print(json.dumps(measure(args)))
        return
    backends = args.backends or (GPU_BACKENDS if gpu else CPU_BACKENDS)
    if args.two_encoders and not args.backends:
        backends = [*backends, ("torch-fp16" if gpu else "onnx") + "+two-encoders"]
    if any(b.startswith("onnx") for b in backends):
        stages = [args.models / "crisis", args.models / "support"]
        _export_missing(stages + ([args.two_encoders] if args.two_encoders else []))
    machine = _machine(args.device)
    print(f"machine: {machine}", flush=True)
    runs = {}
    for backend in backends:
        print(f"measuring {backend}", flush=True)
        child = [sys.executable, __file__, "--backend", backend, "--device", args.device]
        child += ["--models", str(args.models), "--n", str(args.n)]
        child += ["--accuracy-n", str(args.accuracy_n), "--batch-size", str(args.batch_size)]
        child += ["--batches", *map(str, args.batches)]
        if args.threads:
            child += ["--threads", str(args.threads)]
        if args.two_encoders:
            child += ["--two-encoders", str(args.two_encoders)]
        done = subprocess.run(child, check=True, capture_output=True, text=True)
        runs[backend] = json.loads(done.stdout.strip().splitlines()[-1])
    base = runs[backends[0]]
    result = {
        "machine": machine,
        "models": str(args.models),
        "messages": args.n,
        "baseline": backends[0],
        "runs": runs,
    }
    suffix = "-gpu" if gpu else ""
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"bench-inference{suffix}.json").write_text(json.dumps(result, indent=2) + "\n")
    table = _table(runs, base, args.batches)
    if not gpu:
        table += _targets(runs, default_backend(args.models))
    (args.out / f"bench-inference{suffix}.md").write_text(
        f"# Inference benchmark ({'GPU' if gpu else 'CPU'})\n\n{result['machine']}; models "
        f"`{args.models}` ({', '.join(map(str, base['base_models']))}); {args.n} GoEmotions "
        f"test messages; throughput is the median of three passes over at least 256 messages; "
        f"ratios against `{backends[0]}` in the same run.\n"
        f"Command: `{' '.join(['python', *sys.argv])}`\n\n{table}"
    )
    print(table)


# The CPU default path's targets: latency of one route() and throughput of a full batch.
TARGETS = {"p50_ms": 5.0, "p99_ms": 15.0, "batch_128_msgs_per_s": 600.0, "recall_drop_points": 0.5}


def default_backend(models: Path) -> str:
    """The backend ``auto`` runs on this machine's CPU for these models."""
    from stages.backends import resolve_backend
    from stages.head import encoder_dir_of

    crisis = models / "crisis"
    return resolve_backend("auto", encoder_dir_of(crisis) or crisis, "cpu")


def _targets(runs: dict[str, Any], default: str) -> str:
    """The default path against its targets; recall against fp32 measured in the same run."""
    if default not in runs:
        return f"\nDefault path `{default}` not measured in this run.\n"
    run = runs[default]
    fp32 = runs.get("onnx") or runs.get("torch") or run
    drop = 100 * (fp32["crisis_recall_suicidewatch"] - run["crisis_recall_suicidewatch"])
    rows = [
        (
            "route() p50 ms",
            run["route_ms"]["p50"],
            f"<= {TARGETS['p50_ms']}",
            run["route_ms"]["p50"] <= TARGETS["p50_ms"],
        ),
        (
            "route() p99 ms",
            run["route_ms"]["p99"],
            f"<= {TARGETS['p99_ms']}",
            run["route_ms"]["p99"] <= TARGETS["p99_ms"],
        ),
        (
            "route_many batch 128, msg/s",
            run["route_many_msgs_per_s"].get("128"),
            f">= {TARGETS['batch_128_msgs_per_s']}",
            (run["route_many_msgs_per_s"].get("128") or 0) >= TARGETS["batch_128_msgs_per_s"],
        ),
        (
            "crisis recall drop against fp32, points",
            round(drop, 2),
            f"<= {TARGETS['recall_drop_points']}",
            drop <= TARGETS["recall_drop_points"],
        ),
    ]
    out = f"\n## Default path (`auto` = `{default}`) against its targets\n\n"
    out += "| measure | measured | target | met |\n|---|---|---|---|\n"
    for label, value, target, met in rows:
        out += f"| {label} | {value} | {target} | {'yes' if met else 'no'} |\n"
    return out + f"\nRSS after load: {run['rss_mb_after_load']} MB.\n"


def _table(runs: dict[str, Any], base: dict[str, Any], batches: list[int]) -> str:
    names = list(runs)
    head = "| measure | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"

    def row(label: str, get: Any, ratio: bool = False, lower: bool = True) -> str:
        cells = []
        for name in names:
            value = get(runs[name])
            cell = f"{value}"
            if ratio and name != names[0]:
                r = get(base) / value if lower else value / get(base)
                cell += f" ({r:.1f}x)"
            cells.append(cell)
        return f"| {label} | " + " | ".join(cells) + " |\n"

    out = head
    for q in ("p50", "p95", "p99"):
        out += row(f"route() {q} ms", lambda r, q=q: r["route_ms"][q], ratio=True)
    out += row("stages, no database, p50 ms", lambda r: r["stages_ms"]["p50"], ratio=True)
    for key, what in (
        ("route_many_msgs_per_s", "route_many"),
        ("stages_msgs_per_s", "stages only"),
    ):
        for b in batches:
            out += row(
                f"{what} batch {b}, msg/s",
                lambda r, b=b, key=key: r[key][str(b)],
                ratio=True,
                lower=False,
            )
    out += row("stage two", lambda r: r["stage_two"])
    out += row("RSS after load, MB", lambda r: r["rss_mb_after_load"])
    out += row("support weighted F1 (GoEmotions test)", lambda r: r["support_weighted_f1"])
    out += row("crisis recall (val r/SuicideWatch)", lambda r: r["crisis_recall_suicidewatch"])
    return out


if __name__ == "__main__":
    main()
