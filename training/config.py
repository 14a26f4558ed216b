"""Training settings, validated (setfit-style arguments)."""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field

from stages.truncation import Truncation
from training.thresholds import DEFAULT_TARGET_PRECISION, DEFAULT_TARGET_RECALL


class TrainConfig(Truncation):
    """How to fine-tune one stage."""

    model_config = ConfigDict(extra="forbid")

    task: str = Field(description="crisis, support, dair_emotion or tweeteval_emotion.")
    output_dir: Path = Field(description="Model directory to write.")
    base: str | None = Field(
        default=None, description="Checkpoint name or path; None: distilbert, else offline MiniLM."
    )
    encoder: Path | None = Field(
        default=None,
        description="Support task: train a linear head on this stage directory's encoder "
        "(both stages then share one forward pass) instead of fine-tuning a model.",
    )
    epochs: float = Field(default=3.0, gt=0, description="Training epochs.")
    batch_size: int = Field(default=16, ge=1, description="Examples per step.")
    learning_rate: float = Field(default=5e-5, gt=0, description="Peak learning rate.")
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    weight_decay: float = Field(default=0.01, ge=0)
    label_smoothing: float = Field(default=0.05, ge=0, lt=1)
    class_weight_power: float = Field(
        default=0.5, ge=0, le=1, description="0: none, 1: inverse frequency, 0.5: its root."
    )
    freeze_layers: int = Field(default=0, ge=0, description="Freeze embeddings + N lowest layers.")
    early_stopping_patience: int = Field(default=2, ge=1)
    eval_steps: int | None = Field(default=None, description="Evaluate every N steps (else epoch).")
    max_train_examples: int | None = Field(
        default=None, ge=1, description="Subsample the training split to this many examples."
    )
    max_eval_examples: int | None = Field(
        default=None, ge=1, description="Subsample the validation split to this many examples."
    )
    seed: int = Field(default=13, description="Random seed of the sampling and the training.")
    target_recall: float = Field(
        default=DEFAULT_TARGET_RECALL,
        gt=0,
        le=1,
        description="Stage one: its threshold keeps this recall on validation crisis posts.",
    )
    target_precision: float = Field(
        default=DEFAULT_TARGET_PRECISION,
        gt=0,
        le=1,
        description="Stage two: each class's threshold reaches this precision.",
    )
    multi_label_rule: str = Field(
        default="most_severe",
        pattern="^(most_severe|first_listed)$",
        description="Support task: the class of a multi-label example (most_severe, first_listed).",
    )
    goemotions_train: int | None = Field(
        default=8000, ge=1, description="Crisis task: GoEmotions negatives (None: all)."
    )
    depression_weight: float = Field(
        default=0.5, ge=0, le=1, description="Crisis task: weight of r/depression negatives."
    )
    figurative_weight: float = Field(
        default=2.0,
        ge=0,
        le=10,
        description="Crisis task: weight of the figurative hard negatives (0: leave them out).",
    )
    frame_weight: float = Field(
        default=0.0,
        ge=0,
        le=10,
        description="Crisis task: weight of the contrastive frames (crisis words about someone "
        "else, recovered from, or as a topic) as negatives (0: leave them out).",
    )
    supportive_weight: float = Field(
        default=0.0,
        ge=0,
        le=10,
        description="Crisis task: weight of the posts of the psychiatrist-rated Supportive users "
        "(C-SSRS, the half of the users reports do not hold out) as negatives (0: leave them out).",
    )
    drop_label_issues: bool = Field(
        default=False,
        description="Crisis task: drop the SDCNL posts whose subreddit label the text "
        "contradicts (training/sdcnl_label_issues.yaml, found with cleanlab).",
    )
    feedback: Path | None = Field(
        default=None,
        description="Counselors' resolved cases (`triage queue export`) to learn from: outcomes "
        "label stage one, corrected labels stage two.",
    )
    feedback_texts: Path | None = Field(
        default=None,
        description="The platform's texts (JSON lines with id and text), joined to the feedback "
        "by message id where the cases stored no text.",
    )
    feedback_weight: float = Field(
        default=2.0, ge=0, le=20, description="Weight of each feedback example in training."
    )
    warning_sign_weight: float = Field(
        default=0.5,
        ge=0,
        le=10,
        description="Crisis task: weight of the implicit warning signs and their look-alikes "
        "(0: leave them out).",
    )
