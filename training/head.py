"""Train stage two as a head on stage one's fine-tuned encoder (``stages.head``).

The encoder stays as stage one trained it, so stage one's scores are untouched. The head is a
class-weighted logistic regression over the mean-pooled states of a third, two thirds and all
of the encoder's layers; its regularisation is chosen on validation macro-F1.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from transformers import AutoConfig

from stages.head import HEAD_FILE
from stages.model_dir import StageCard, weights_fingerprint
from stages.transformer import TransformerStage, softmax
from training.config import TrainConfig
from training.data import subsample
from training.finetune import training_sample
from training.tasks import TaskData

# Inverse regularisation strengths tried; the features are standardised first.
C_GRID = (0.001, 0.003, 0.01, 0.03)
_CHUNK = 512


def default_layers(n_layers: int) -> list[int]:
    """A third, two thirds and all of the depth: [2, 4, 6] for a six-layer encoder.

    Index 0 is the embeddings. Lower layers keep what stage one's fine-tuning did not need
    (tone, thanks, questions), which the support classes depend on.
    """
    return sorted({max(1, round(n_layers * k / 3)) for k in (1, 2, 3)})


def _features(
    encoder: TransformerStage,
    texts: Sequence[str],
    progress: Callable[[int, int], None] | None,
    done: int,
    total: int,
) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for start in range(0, len(texts), _CHUNK):
        out.extend(encoder.layer_features(texts[start : start + _CHUNK]))
        if progress:
            progress(done + min(start + _CHUNK, len(texts)), total)
    return out


def train_head(
    cfg: TrainConfig, data: TaskData, progress: Callable[[int, int], None] | None = None
) -> Path:
    """Fit a head on ``cfg.encoder``'s encoder and write a head directory (no thresholds)."""
    from training.finetune import class_weights

    assert cfg.encoder is not None
    started = time.perf_counter()
    encoder = TransformerStage("encoder", cfg.encoder, device="auto", batch_size=64)
    layers = default_layers(AutoConfig.from_pretrained(cfg.encoder).num_hidden_layers)
    encoder.share_layers(layers)
    train = training_sample(cfg, data)
    val = subsample(data.validation, cfg.max_eval_examples, cfg.seed)
    total = len(train) + len(val)
    train_f = _features(encoder, train["text"], progress, 0, total)
    val_f = _features(encoder, val["text"], progress, len(train), total)

    # One row per window, each with its text's label (chat messages have one window).
    rows = np.concatenate(train_f)
    y = np.repeat(np.array(train["label"]), [len(f) for f in train_f])
    weight = np.repeat(np.array(train["weight"], dtype=np.float64), [len(f) for f in train_f])
    per_class = class_weights(list(y), len(data.labels), cfg.class_weight_power).numpy()
    mean, scale = rows.mean(0), rows.std(0) + 1e-6
    gold = np.array(val["label"])

    best: tuple[float, float, np.ndarray, np.ndarray] | None = None
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=3000)
        model.fit((rows - mean) / scale, y, sample_weight=weight * per_class[y])
        # Folded into the raw features: the head the stage runs is one matrix and a bias.
        w = (model.coef_ / scale).astype(np.float32)
        b = (model.intercept_ - model.coef_ @ (mean / scale)).astype(np.float32)
        pred = [softmax(f @ w.T + b).mean(0).argmax() for f in val_f]
        score = float(f1_score(gold, pred, average="macro"))
        if best is None or score > best[0]:
            best = (score, c, w, b)
    assert best is not None
    score, c, w, b = best

    out = cfg.output_dir
    out.mkdir(parents=True, exist_ok=True)
    save_file({"weight": np.ascontiguousarray(w), "bias": b}, str(out / HEAD_FILE))
    encoder_card = StageCard.load(cfg.encoder)
    StageCard(
        task="support",
        labels=data.labels,
        max_length=encoder_card.max_length,
        head_fraction=encoder_card.head_fraction,
        max_windows=encoder_card.max_windows,
        base_model=f"head on {cfg.encoder.name} ({encoder_card.base_model})",
        encoder=os.path.relpath(Path(cfg.encoder).resolve(), out.resolve()),
        head_layers=layers,
        encoder_weights=weights_fingerprint(cfg.encoder),
        metrics={
            "validation_macro_f1": round(score, 4),
            "train_examples": float(len(train)),
            "train_runtime_s": round(time.perf_counter() - started, 1),
            "inverse_regularisation": c,
        },
    ).save(out)
    return out
