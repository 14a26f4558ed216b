"""Fine-tune an encoder into a stage directory with the Hugging Face ``Trainer``."""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset, concatenate_datasets
from sklearn.metrics import f1_score
from torch.nn import functional as F  # noqa: N812
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    EarlyStoppingCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from stages.backends import ONNX_DIR
from stages.model_dir import StageCard
from stages.transformer import encode
from training.base_models import describe_base, resolve_base
from training.config import TrainConfig
from training.data import subsample
from training.tasks import TaskData

log = logging.getLogger(__name__)


def class_weights(labels: list[int], n_classes: int, power: float) -> torch.Tensor:
    """Inverse-frequency weights raised to ``power`` (0: none), normalised to mean 1."""
    counts = Counter(labels)
    raw = np.array([(len(labels) / max(counts.get(k, 0), 1)) ** power for k in range(n_classes)])
    return torch.tensor(raw / raw.mean(), dtype=torch.float32)


class WeightedTrainer(Trainer):
    """Cross-entropy with class weights, per-example weights and label smoothing."""

    def __init__(
        self, *args: Any, class_weight: torch.Tensor, label_smoothing: float, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """Weighted, label-smoothed cross-entropy over the batch."""  # type: ignore[no-untyped-def,override]
        labels = inputs.pop("labels")
        weight = inputs.pop("weight")
        outputs = model(**inputs)
        loss = F.cross_entropy(
            outputs.logits.float(),
            labels,
            weight=self.class_weight.to(labels.device),
            label_smoothing=self.label_smoothing,
            reduction="none",
        )
        loss = (loss * weight).sum() / weight.sum()
        return (loss, outputs) if return_outputs else loss


class Collator:
    """Pads token ids to the longest in the batch; keeps labels and example weights."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """One padded batch."""
        batch = self.tokenizer.pad(
            {"input_ids": [f["input_ids"] for f in features]}, return_tensors="pt"
        )
        batch["labels"] = torch.tensor([f["label"] for f in features], dtype=torch.long)
        batch["weight"] = torch.tensor(
            [f.get("weight", 1.0) for f in features], dtype=torch.float32
        )
        return batch


def _tokenize(ds: Dataset, tokenizer: Any, cfg: TrainConfig) -> Dataset:
    return ds.map(
        lambda b: {"input_ids": encode(tokenizer, b["text"], cfg.max_length, cfg.head_fraction)},
        batched=True,
        batch_size=512,
        remove_columns=[c for c in ds.column_names if c not in ("label", "weight")],
    )


def _freeze(model: torch.nn.Module, n_layers: int) -> None:
    base: Any = model.base_model
    for p in base.embeddings.parameters():
        p.requires_grad = False
    layers = next(
        m
        for name, m in base.named_modules()
        if isinstance(m, torch.nn.ModuleList) and name.split(".")[-1] == "layer"
    )
    for layer in list(layers)[:n_layers]:
        for p in layer.parameters():
            p.requires_grad = False


class _Progress(TrainerCallback):
    def __init__(self, report: Callable[[int, int], None]) -> None:
        self.report = report

    def on_step_end(self, args, state, control, **kwargs):
        """Report the step to the progress bar."""  # type: ignore[no-untyped-def]
        self.report(state.global_step, state.max_steps)


def training_sample(cfg: TrainConfig, data: TaskData) -> Dataset:
    """The rows a run trains on, in order: the corpora sampled, the hand-written rows whole."""
    train = subsample(data.train, cfg.max_train_examples, cfg.seed)
    if data.curated is not None:
        train = concatenate_datasets([train, data.curated]).shuffle(seed=cfg.seed)
    return train


def _save_stage(
    cfg: TrainConfig,
    best: Any,
    tokenizer: Any,
    labels: list[str],
    base: str,
    metrics: dict[str, float],
) -> None:
    """Write the weights, tokenizer and card of the best checkpoint to ``cfg.output_dir``."""
    out = cfg.output_dir
    shutil.rmtree(out / ONNX_DIR, ignore_errors=True)  # graphs of earlier weights: stale now
    best.save_pretrained(out)
    tokenizer.save_pretrained(out)
    StageCard(
        task="crisis"
        if cfg.task == "crisis"
        else ("support" if cfg.task == "support" else "emotion"),
        labels=labels,
        max_length=cfg.max_length,
        head_fraction=cfg.head_fraction,
        max_windows=cfg.max_windows,
        base_model=describe_base(base),
        metrics=metrics,
    ).save(out)


def training_arguments(cfg: TrainConfig, *, quiet: bool) -> TrainingArguments:
    """The Hugging Face ``TrainingArguments`` of a config (bf16 or fp16 on a GPU)."""
    cuda = torch.cuda.is_available()
    strategy = "steps" if cfg.eval_steps else "epoch"
    return TrainingArguments(
        output_dir=str(cfg.output_dir / "checkpoints"),
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size * 4,
        learning_rate=cfg.learning_rate,
        warmup_steps=cfg.warmup_ratio,  # a float below 1 is a share of all steps (transformers 5)
        lr_scheduler_type="linear",
        weight_decay=cfg.weight_decay,
        eval_strategy=strategy,
        save_strategy=strategy,
        eval_steps=cfg.eval_steps,
        save_steps=cfg.eval_steps or 500,
        save_total_limit=1,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        seed=cfg.seed,
        data_seed=cfg.seed,
        bf16=cuda and torch.cuda.is_bf16_supported(),
        fp16=cuda and not torch.cuda.is_bf16_supported(),
        remove_unused_columns=False,
        report_to=[],
        disable_tqdm=quiet,
        logging_steps=50,
        dataloader_num_workers=0,
        use_cpu=not cuda,
    )


def train(
    cfg: TrainConfig, data: TaskData, progress: Callable[[int, int], None] | None = None
) -> Path:
    """Fine-tune ``cfg.base`` on ``data`` and write a stage directory (without thresholds)."""
    set_seed(cfg.seed)
    base = resolve_base(cfg.base)
    labels = data.labels
    tokenizer = AutoTokenizer.from_pretrained(base)
    # fp32 master weights whatever the checkpoint stores: transformers loads a half-precision
    # checkpoint as fp16, and training fp16 weights directly collapsed to one class (seen on
    # an H200 with an fp16 copy of MiniLM). Mixed precision comes from autocast instead.
    model = AutoModelForSequenceClassification.from_pretrained(
        base,
        dtype=torch.float32,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
        ignore_mismatched_sizes=True,
    )
    if cfg.freeze_layers:
        _freeze(model, cfg.freeze_layers)
    train_ds = _tokenize(training_sample(cfg, data), tokenizer, cfg)
    eval_ds = _tokenize(subsample(data.validation, cfg.max_eval_examples, cfg.seed), tokenizer, cfg)
    args = training_arguments(cfg, quiet=progress is not None)

    def metrics(pred: Any) -> dict[str, float]:
        logits, gold = pred
        return {"macro_f1": float(f1_score(gold, logits.argmax(-1), average="macro"))}

    trainer = WeightedTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        data_collator=Collator(tokenizer),
        compute_metrics=metrics,
        callbacks=[EarlyStoppingCallback(cfg.early_stopping_patience)]
        + ([_Progress(progress)] if progress else []),
        class_weight=class_weights(train_ds["label"], len(labels), cfg.class_weight_power),
        label_smoothing=cfg.label_smoothing,
    )
    result = trainer.train()
    # The best checkpoint is reloaded at the end: its evaluation is the best one, no need to
    # evaluate it again.
    best_f1 = trainer.state.best_metric
    if best_f1 is None:
        best_f1 = trainer.evaluate()["eval_macro_f1"]
    out = cfg.output_dir
    _save_stage(
        cfg,
        trainer.model,
        tokenizer,
        labels,
        base,
        {
            "validation_macro_f1": round(float(best_f1), 4),
            "train_examples": float(len(train_ds)),
            "train_runtime_s": round(float(result.metrics["train_runtime"]), 1),
        },
    )
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return out
