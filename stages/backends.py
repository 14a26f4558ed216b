"""Where a transformer stage's logits come from: PyTorch, or ONNX Runtime (fp32 or int8)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from stages.errors import ModelDirError

BACKENDS = ("auto", "torch", "torch-fp16", "torch-bf16", "onnx", "onnx-int8")
_TORCH_DTYPES = {"torch": torch.float32, "torch-fp16": torch.float16, "torch-bf16": torch.bfloat16}
# Written by `triage export` inside a stage directory.
ONNX_DIR = "onnx"
ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}


class Scorer(Protocol):
    """Logits (float32, one row per sequence) for a padded batch of token ids."""

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Logits for the batch."""
        ...


class TorchScorer:
    """The plain PyTorch path: fp32 anywhere, fp16/bf16 on a GPU."""

    def __init__(self, source: str, device: str, dtype: torch.dtype = torch.float32) -> None:
        from transformers import AutoModelForSequenceClassification

        self.device = torch.device(device)
        self.model = AutoModelForSequenceClassification.from_pretrained(source)
        self.model.to(self.device, dtype=dtype).eval()

    @torch.inference_mode()
    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Logits for the batch."""
        logits = self.model(
            input_ids=torch.from_numpy(input_ids).to(self.device),
            attention_mask=torch.from_numpy(attention_mask).to(self.device),
        ).logits
        return logits.float().cpu().numpy()


class OnnxScorer:
    """ONNX Runtime on CPU, for a graph written by `triage export`."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Two stages alternate on few cores: a pool left spinning after its run would steal
        # the cores the other stage's pool needs next.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Logits for the batch."""
        feed = {"input_ids": input_ids, "attention_mask": attention_mask}
        return np.asarray(self.session.run(["logits"], feed)[0], dtype=np.float32)


def onnx_path(source: str | Path, backend: str) -> Path:
    """Where `triage export` writes the graph for ``backend`` (``onnx`` or ``onnx-int8``)."""
    return Path(source) / ONNX_DIR / ONNX_FILES[backend]


def resolve_backend(backend: str, source: str | Path, device: str) -> str:
    """``auto``: the exported fp32 ONNX graph on CPU when there is one, else PyTorch (fp32).

    Not int8: dynamic quantisation scales activations over the whole batch, so a message's
    scores (and, near a threshold, its decision) depend on the messages batched with it.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    if backend != "auto":
        return backend
    if device == "cpu" and onnx_path(source, "onnx").exists():
        return "onnx"
    return "torch"


def load_scorer(backend: str, source: str, device: str, threads: int | None) -> Scorer:
    """The scorer for an already resolved backend."""
    if backend in _TORCH_DTYPES:
        if backend != "torch" and device == "cpu":
            raise ValueError(f"backend {backend!r} needs a GPU; on CPU use 'torch' or 'onnx-int8'")
        return TorchScorer(source, device, _TORCH_DTYPES[backend])
    if device != "cpu":
        raise ValueError(f"backend {backend!r} runs on CPU; use backend 'torch' on {device}")
    path = onnx_path(source, backend)
    if not path.exists():
        raise ModelDirError(f"{path} is missing: run `triage export {source}` first")
    return OnnxScorer(path, threads)
