"""Other int8 graphs of stage one against the shipped one: agreement, batch independence, speed.

Builds, from the fp32 graph `triage export` wrote in MODEL_DIR/onnx:
  - ``fused``: the PyTorch model exported with eager attention, ONNX Runtime's BERT optimizer
    (Attention, EmbedLayerNormalization fused), then the shipped dynamic quantisation
    (QAttention);
  - ``static``: static int8 (QOperator, MinMax calibration on 300 training texts), MatMul only;
  - ``nbits8-32`` / ``nbits8-128``: 8-bit weights in blocks of 32 / 128 (MatMulNBits,
    accuracy level 4: activations quantised per row and block). Needs ``pip install onnx_ir``.
Each is compared with the fp32 graph on 1,000 GoEmotions validation messages and 300
r/SuicideWatch training posts, every text scored alone, at the card's crisis threshold;
"batch vs alone" scores the same texts in padded batches of 32. Speed is on 1,024 GoEmotions
test messages: one text at a time on one thread, each text alone on a pool of two
single-threaded runs (what the shipped path does), and padded length-sorted batches on two
threads. Writes ``results.json`` beside this file.

    TRIAGE_DATA_DIR=$(realpath ../shared/data) .venv/bin/python \
        reports/2026-12-04-int8-graphs/compare.py models/crisis OUT_DIR
"""

from __future__ import annotations

import csv
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import yaml
from transformers import AutoTokenizer

from training.data import data_dir, load_sdcnl

MAX_LENGTH = 96


def build(model_dir: Path, out: Path, texts: list[str], tok: Any) -> dict[str, Path]:
    """The candidate graphs, written under ``out``."""
    import torch
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from onnxruntime.transformers import optimizer
    from transformers import AutoModelForSequenceClassification

    from stages.backends import LAYER_MEANS
    from training.export import OPSET, _WithLayerMeans

    fp32 = model_dir / "onnx" / "model.onnx"
    graphs = {"shipped": model_dir / "onnx" / "model.int8.onnx", "fp32": fp32}
    pre = out / "pre.onnx"
    quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)

    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, attn_implementation="eager"
    ).eval()
    dummy = torch.ones(2, 8, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        _WithLayerMeans(model),
        (dummy, torch.ones_like(dummy)),
        str(out / "eager.onnx"),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits", LAYER_MEANS],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
    )
    config = model.config
    fused = optimizer.optimize_model(
        str(out / "eager.onnx"),
        model_type="bert",
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
        opt_level=1,
    )
    fused.save_model_to_file(str(out / "fused.fp32.onnx"))
    graphs["fused"] = out / "fused.int8.onnx"
    quantize_dynamic(
        out / "fused.fp32.onnx",
        graphs["fused"],
        per_channel=True,
        weight_type=QuantType.QInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.rows = iter([_feed(tok, t) for t in texts])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.rows, None)

    graphs["static"] = out / "static.onnx"
    quantize_static(
        pre,
        graphs["static"],
        Reader(),
        quant_format=QuantFormat.QOperator,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul"],
    )
    try:
        from onnxruntime.quantization.matmul_nbits_quantizer import (
            DefaultWeightOnlyQuantConfig,
            MatMulNBitsQuantizer,
        )
    except ImportError:  # onnx_ir missing
        return graphs
    for block in (32, 128):
        config8 = DefaultWeightOnlyQuantConfig(
            block_size=block, is_symmetric=True, accuracy_level=4, bits=8
        )
        quantizer = MatMulNBitsQuantizer(onnx.load(pre), algo_config=config8)
        quantizer.process()
        graphs[f"nbits8-{block}"] = out / f"nbits8-{block}.onnx"
        quantizer.model.save_model_to_file(str(graphs[f"nbits8-{block}"]), False)
    return graphs


def _feed(tok: Any, text: str) -> dict[str, np.ndarray]:
    enc = tok(text, truncation=True, max_length=MAX_LENGTH, return_tensors="np")
    return {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask")}


def _session(path: Path, threads: int) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _crisis(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(1, keepdims=True))
    return (e / e.sum(1, keepdims=True))[:, 1]


def _alone(session: Any, feeds: list[dict[str, np.ndarray]]) -> np.ndarray:
    return np.array([session.run(["logits"], f)[0][0] for f in feeds])


def _batched(session: Any, feeds: list[dict[str, np.ndarray]], size: int) -> np.ndarray:
    order = sorted(range(len(feeds)), key=lambda i: feeds[i]["input_ids"].shape[1])
    out = np.zeros((len(feeds), 2), np.float32)
    for k in range(0, len(order), size):
        chosen = order[k : k + size]
        width = max(feeds[i]["input_ids"].shape[1] for i in chosen)
        ids = np.zeros((len(chosen), width), np.int64)
        mask = np.zeros_like(ids)
        for row, i in enumerate(chosen):
            n = feeds[i]["input_ids"].shape[1]
            ids[row, :n] = feeds[i]["input_ids"][0]
            mask[row, :n] = 1
        out[chosen] = session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    return out


def _rate(run: Any, n: int) -> float:
    start = time.perf_counter()
    run()
    return round(n / (time.perf_counter() - start), 1)


def main() -> None:
    """Build the graphs, measure each, write ``results.json``."""
    model_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(model_dir)
    card = yaml.safe_load((model_dir / "triage_stage.yaml").read_text())
    threshold = card["thresholds"]["crisis"]
    root = data_dir()
    go = root / "goemotions"
    dev = [r[0] for r in csv.reader((go / "dev.tsv").open(), delimiter="\t")][:1000]
    test = [r[0] for r in csv.reader((go / "test.tsv").open(), delimiter="\t")][:1024]
    train = load_sdcnl(root)["train"]
    sw = [t for t, y in zip(train["text"], train["is_suicide"], strict=True) if y == 1][-300:]
    graphs = build(model_dir, out, dev[:200] + sw[:100], tok)
    feeds = [_feed(tok, t) for t in dev + sw]
    speed = [_feed(tok, t) for t in test]
    base = _crisis(_alone(_session(graphs["fp32"], 1), feeds))
    pool = ThreadPoolExecutor(2)
    results: dict[str, Any] = {"threshold": threshold, "texts": len(feeds)}
    for name, path in graphs.items():
        one = _session(path, 1)
        alone = _crisis(_alone(one, feeds))
        batched = _crisis(_batched(one, feeds, 32))
        two = _session(path, 2)
        _batched(two, speed[:256], 32)  # warm up
        start = time.perf_counter()
        _alone(one, speed[:300])
        row = {
            "max_abs_diff_vs_fp32": round(float(np.abs(alone - base).max()), 4),
            "mean_abs_diff_vs_fp32": round(float(np.abs(alone - base).mean()), 5),
            "crisis_flag_agreement": round(
                float(((alone >= threshold) == (base >= threshold)).mean()), 4
            ),
            "batch_vs_alone_max_abs_diff": round(float(np.abs(alone - batched).max()), 5),
            "one_text_one_thread_ms": round((time.perf_counter() - start) / 300 * 1e3, 2),
            "each_alone_pool_of_2_msgs_per_s": _rate(
                lambda one=one: list(pool.map(lambda f: one.run(["logits"], f), speed)),
                len(speed),
            ),
        }
        for size in (8, 32, 128):
            row[f"batches_of_{size}_two_threads_msgs_per_s"] = _rate(
                lambda size=size, two=two: _batched(two, speed, size), len(speed)
            )
        results[name] = row
        print(name, row, flush=True)
    Path(__file__).with_name("results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
