"""Where a transformer stage's logits come from: PyTorch, or ONNX Runtime (fp32 or int8)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from stages.errors import ModelDirError

BACKENDS = ("auto", "torch", "torch-fp16", "torch-bf16", "onnx", "onnx-int8")
_TORCH_DTYPES = {"torch": torch.float32, "torch-fp16": torch.float16, "torch-bf16": torch.bfloat16}
# Written by `triage export` inside a stage directory.
ONNX_DIR = "onnx"
ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}


# Written by `triage export` beside the logits: each layer's hidden states mean-pooled over
# the real tokens, [batch, layers + 1, hidden], so a head can share the encoder's pass.
LAYER_MEANS = "layer_means"


class Scorer(Protocol):
    """Logits (float32, one row per sequence) for a padded batch of token ids.

    With ``layer_means`` also each layer's mean-pooled hidden states (``LAYER_MEANS``).
    ``per_sequence``: it runs each sequence alone, so padding costs it nothing.
    """

    per_sequence: bool

    def __call__(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, *, layer_means: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Logits for the batch, and the layer means when asked for."""
        ...


def masked_layer_means(
    hidden_states: tuple[torch.Tensor, ...], attention_mask: torch.Tensor
) -> torch.Tensor:
    """Mean over the real tokens of every layer's hidden states: [batch, layers + 1, hidden]."""
    mask = attention_mask.unsqueeze(-1).to(hidden_states[0].dtype)
    count = mask.sum(1).clamp(min=1.0)
    return torch.stack([(h * mask).sum(1) / count for h in hidden_states], dim=1)


class TorchScorer:
    """The plain PyTorch path: fp32 anywhere, fp16/bf16 on a GPU."""

    per_sequence = False

    def __init__(self, source: str, device: str, dtype: torch.dtype = torch.float32) -> None:
        from transformers import AutoModelForSequenceClassification

        self.device = torch.device(device)
        self.model = AutoModelForSequenceClassification.from_pretrained(source)
        self.model.to(self.device, dtype=dtype).eval()

    @torch.inference_mode()
    def __call__(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, *, layer_means: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Logits for the batch, and the layer means when asked for."""
        mask = torch.from_numpy(attention_mask).to(self.device)
        out = self.model(
            input_ids=torch.from_numpy(input_ids).to(self.device),
            attention_mask=mask,
            output_hidden_states=layer_means,
        )
        means = (
            masked_layer_means(out.hidden_states, mask).float().cpu().numpy()
            if layer_means
            else None
        )
        return out.logits.float().cpu().numpy(), means


class OnnxScorer:
    """ONNX Runtime on CPU, for a graph written by `triage export`.

    ``per_sequence`` runs each sequence on its own, without padding: for the int8 graph, whose
    activations are quantised with one scale per run, so that a message's scores never depend
    on its batch. A batch runs on a pool of ``threads`` single-threaded runs; one message runs
    alone on ``threads`` threads that spin between their parts of the run (half the latency of
    one thread), a session of its own with the same graph.
    """

    def __init__(self, path: Path, threads: int | None = None, per_sequence: bool = False) -> None:
        self.path = path
        self.per_sequence = per_sequence
        cores = threads or os.cpu_count() or 1
        self.session = _session(path, 1 if per_sequence else threads, spin=False)
        self.has_layer_means = LAYER_MEANS in {o.name for o in self.session.get_outputs()}
        self._alone = _session(path, cores, spin=True) if per_sequence and cores > 1 else None
        self._pool = (
            ThreadPoolExecutor(cores, thread_name_prefix="onnx-row") if per_sequence else None
        )

    def __call__(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, *, layer_means: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Logits for the batch, and the layer means when asked for."""
        names = ["logits", LAYER_MEANS] if layer_means else ["logits"]
        if self._pool is None or len(input_ids) == 1 and attention_mask.all():
            session = self._alone or self.session
            return self._outputs(session.run(names, _feed(input_ids, attention_mask)))

        def one(row: int) -> list[np.ndarray]:
            n = int(attention_mask[row].sum())  # padding is on the right: cut it off
            feed = _feed(input_ids[row : row + 1, :n], attention_mask[row : row + 1, :n])
            return list(self.session.run(names, feed))

        rows = list(self._pool.map(one, range(len(input_ids))))
        return self._outputs([np.concatenate(parts) for parts in zip(*rows, strict=True)])

    @staticmethod
    def _outputs(out: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        means = np.asarray(out[1], dtype=np.float32) if len(out) > 1 else None
        return np.asarray(out[0], dtype=np.float32), means


def _session(path: Path, threads: int | None, *, spin: bool) -> Any:
    """An ONNX Runtime session on ``threads`` intra-op threads (None: all cores).

    Without ``spin`` its threads sleep as soon as their work is done: two stages alternating
    on few cores would otherwise steal the cores each other needs next.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _feed(input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def onnx_path(source: str | Path, backend: str) -> Path:
    """Where `triage export` writes the graph for ``backend`` (``onnx`` or ``onnx-int8``)."""
    return Path(source) / ONNX_DIR / ONNX_FILES[backend]


def onnx_outputs(path: Path) -> set[str]:
    """The output names of an ONNX graph (graphs exported before heads lack ``LAYER_MEANS``)."""
    import onnx

    return {o.name for o in onnx.load(str(path), load_external_data=False).graph.output}


def resolve_backend(backend: str, source: str | Path, device: str) -> str:
    """``auto``: on CPU the exported int8 ONNX graph, else the fp32 one, else PyTorch (fp32).

    int8 scores are the fp32 model's within quantisation noise (`triage export` measures the
    difference and the crisis-flag agreement at the card's threshold on validation texts,
    in ``onnx/validation.json``), and each text is scored alone, so its scores never depend
    on its batch. ``backend: onnx`` keeps the fp32 graph.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    if backend != "auto":
        return backend
    if device == "cpu":
        for graph in ("onnx-int8", "onnx"):
            if onnx_path(source, graph).exists():
                return graph
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
    return OnnxScorer(path, threads, per_sequence=backend == "onnx-int8")
