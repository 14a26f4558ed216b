"""Train-then-tune, the one path the CLI's `train` and `demo` share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from training.config import TrainConfig
from training.evaluate import tune
from training.finetune import train
from training.head import train_head
from training.model_card import write_model_card
from training.recipes import CPU, DEMO, FULL
from training.tasks import TaskData, load_task

RECIPES = {"demo": DEMO, "cpu": CPU, "full": FULL}


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
        options["drop_label_issues"] = cfg.drop_label_issues
    elif cfg.task == "support":
        options["rule"] = cfg.multi_label_rule
    return load_task(cfg.task, data_root, **options)


def train_and_tune(
    cfg: TrainConfig, data_root: Path | None, progress: Callable[[int, int], None] | None = None
) -> dict[str, float]:
    """Fine-tune, tune thresholds on validation data, write the model card; the thresholds."""
    data = task_data(cfg, data_root)
    out = train_head(cfg, data, progress) if cfg.encoder else train(cfg, data, progress=progress)
    thresholds = tune(
        out, data, target_recall=cfg.target_recall, target_precision=cfg.target_precision
    )
    write_model_card(out, data)
    return thresholds
