"""Train-then-tune, the one path the CLI's `train` and `demo` share."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from datasets import concatenate_datasets

from training.config import TrainConfig
from training.evaluate import tune
from training.export import export_onnx
from training.feedback import FEEDBACK_SOURCE, feedback_report, load_feedback
from training.finetune import train
from training.head import train_head
from training.model_card import write_model_card
from training.recipes import CPU, DEMO, FULL
from training.tasks import TaskData, load_task

RECIPES = {"demo": DEMO, "cpu": CPU, "full": FULL}
FEEDBACK_REPORT = "feedback.json"  # in the model directory: the feedback examples, before/after


def build_config(task: str, output: Path, recipe: str = "full", **overrides: Any) -> TrainConfig:
    """A validated config: the recipe's values, then the overrides that are not None."""
    book = RECIPES.get(recipe)
    if book is None:
        raise ValueError(f"unknown recipe {recipe!r}; choose one of {sorted(RECIPES)}")
    if task not in book:
        raise ValueError(f"recipe {recipe!r} has no task {task!r}; choose from {sorted(book)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    if given.get("encoder") is None:
        return TrainConfig(task=task, output_dir=output, **(book[task] | given))
    if task != "support":
        raise ValueError(f"--encoder trains stage two as a head; task {task!r} has none")
    # A head on another stage's encoder has its own sizes: it trains in seconds, not minutes.
    return TrainConfig(task=task, output_dir=output, **(book["support_head"] | given))


def task_data(cfg: TrainConfig, data_root: Path | None) -> TaskData:
    """The task's splits built with the config's data options."""
    options: dict[str, Any] = {}
    if cfg.task == "crisis":
        options["goemotions_train"] = cfg.goemotions_train
        options["depression_weight"] = cfg.depression_weight
        options["figurative_weight"] = cfg.figurative_weight
        options["warning_sign_weight"] = cfg.warning_sign_weight
        options["frame_weight"] = cfg.frame_weight
        options["supportive_weight"] = cfg.supportive_weight
        options["drop_label_issues"] = cfg.drop_label_issues
    elif cfg.task == "support":
        options["rule"] = cfg.multi_label_rule
    data = load_task(cfg.task, data_root, **options)
    if cfg.feedback is not None:
        data = with_feedback(data, cfg)
    return data


def with_feedback(data: TaskData, cfg: TrainConfig) -> TaskData:
    """The task's data with the counselors' examples kept whole beside the hand-written rows."""
    assert cfg.feedback is not None
    rows = load_feedback(cfg.feedback, cfg.feedback_texts).dataset(cfg.task, cfg.feedback_weight)
    if rows is None:
        raise ValueError(f"{cfg.feedback}: no resolved case gives a {cfg.task} example")
    curated = rows if data.curated is None else concatenate_datasets([data.curated, rows])
    return replace(data, curated=curated)


def train_and_tune(
    cfg: TrainConfig, data_root: Path | None, progress: Callable[[int, int], None] | None = None
) -> dict[str, float]:
    """Fine-tune, export to ONNX, tune thresholds on validation data, write the model card.

    Thresholds and calibration are tuned on the scores of the CPU default path (the int8
    graph; a head reads its encoder's), so its flags are the ones validation measured.
    """
    data = task_data(cfg, data_root)
    out = train_head(cfg, data, progress) if cfg.encoder else train(cfg, data, progress=progress)
    if not cfg.encoder:
        export_onnx(out)
    thresholds = tune(
        out,
        data,
        target_recall=cfg.target_recall,
        target_precision=cfg.target_precision,
        device="cpu",
    )
    write_model_card(out, data)
    if cfg.feedback is not None and cfg.task == "crisis":
        assert data.curated is not None  # with_feedback put the counselors' rows there
        rows = data.curated.filter(lambda row: row["source"] == FEEDBACK_SOURCE)
        examples = list(zip(rows["text"], rows["label"], strict=True))
        report = feedback_report(examples, before=cfg.base, after=out)
        (out / FEEDBACK_REPORT).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return thresholds
