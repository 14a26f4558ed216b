"""Training settings, validated (setfit-style arguments)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class TrainConfig(BaseModel):
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
    max_length: int = Field(default=256, ge=16, le=4096)
    head_fraction: float = Field(default=0.25, ge=0.0, le=1.0)
    epochs: float = Field(default=3.0, gt=0)
    batch_size: int = Field(default=16, ge=1)
    learning_rate: float = Field(default=5e-5, gt=0)
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    weight_decay: float = Field(default=0.01, ge=0)
    label_smoothing: float = Field(default=0.05, ge=0, lt=1)
    class_weight_power: float = Field(
        default=0.5, ge=0, le=1, description="0: none, 1: inverse frequency, 0.5: its root."
    )
    freeze_layers: int = Field(default=0, ge=0, description="Freeze embeddings + N lowest layers.")
    early_stopping_patience: int = Field(default=2, ge=1)
    eval_steps: int | None = Field(default=None, description="Evaluate every N steps (else epoch).")
    max_train_examples: int | None = Field(default=None, ge=1)
    max_eval_examples: int | None = Field(default=None, ge=1)
    seed: int = 13
    target_recall: float = Field(default=0.97, gt=0, le=1, description="Stage-one threshold.")
    target_precision: float = Field(
        default=0.5, gt=0, le=1, description="Stage-two per-class threshold target."
    )
    multi_label_rule: str = Field(default="most_severe", pattern="^(most_severe|first_listed)$")
    goemotions_train: int | None = Field(
        default=8000, ge=1, description="Crisis task: GoEmotions negatives (None: all)."
    )
    depression_weight: float = Field(
        default=0.5, ge=0, le=1, description="Crisis task: weight of r/depression negatives."
    )
    max_windows: int = Field(
        default=1,
        ge=1,
        le=32,
        description="Long texts at inference: 1 = head+tail truncation; N = up to N "
        "overlapping windows, max-pooled (written to the card; thresholds tuned with it).",
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
    drop_label_issues: bool = Field(
        default=False,
        description="Crisis task: drop the SDCNL posts whose subreddit label the text "
        "contradicts (training/sdcnl_label_issues.yaml, found with cleanlab).",
    )
    warning_sign_weight: float = Field(
        default=0.5,
        ge=0,
        le=10,
        description="Crisis task: weight of the implicit warning signs and their look-alikes "
        "(0: leave them out).",
    )
