"""The model-directory format shared by training (writer) and the stages (reader).

A stage directory holds a Hugging Face checkpoint (``config.json``, weights, tokenizer) and
``triage_stage.yaml`` with the label map, the tuned thresholds and how texts are truncated.
A head directory holds only the card and ``head.safetensors``: a linear head over the pooled
layers of another stage's encoder (``encoder`` in the card), so both share one forward pass.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import ConfigDict, Field, ValidationError, model_validator

from stages.calibration import Calibration
from stages.errors import ModelDirError
from stages.labels import CRISIS
from stages.truncation import Truncation

CARD_FILE = "triage_stage.yaml"
Task = Literal["crisis", "support", "emotion"]


class StageCard(Truncation):
    """What a stage needs to know besides the weights."""

    model_config = ConfigDict(extra="forbid")

    task: Task = Field(description="crisis (binary), support (five classes) or emotion.")
    labels: list[str] = Field(min_length=2, description="Output index -> label name.")
    thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="crisis: {'crisis': t}; multi-class: per-class minimum probability.",
    )
    base_model: str | None = Field(default=None, description="Checkpoint it was fine-tuned from.")
    encoder: str | None = Field(
        default=None,
        description="A head stage: the stage directory (relative to this one) whose encoder "
        "it reads; its weights are head.safetensors, not a checkpoint of its own.",
    )
    head_layers: list[int] = Field(
        default_factory=list,
        description="A head stage: the encoder layers whose mean-pooled states it reads.",
    )
    encoder_weights: str | None = Field(
        default=None,
        description="A head stage: SHA-256 of the encoder weights it was fit on (a head on "
        "a retrained encoder reads states it never saw).",
    )
    calibration: Calibration | None = Field(
        default=None,
        description="Crisis stages: maps the raw probability to a calibrated risk (scores and "
        "thresholds are reported on that scale).",
    )
    metrics: dict[str, float] = Field(default_factory=dict, description="Validation metrics.")

    def risk(self, p: float) -> float:
        """A raw crisis probability on the calibrated scale (as is without a calibrator)."""
        return self.calibration(p) if self.calibration is not None else p

    @model_validator(mode="after")
    def _check(self) -> StageCard:
        unknown = set(self.thresholds) - set(self.labels)
        if unknown:
            raise ValueError(f"thresholds for unknown labels {sorted(unknown)}")
        if self.task == "crisis" and CRISIS not in self.labels:
            raise ValueError(f"a crisis stage needs a {CRISIS!r} label, got {self.labels}")
        if (self.encoder is None) != (not self.head_layers):
            raise ValueError("a head stage needs both encoder and head_layers")
        for label, value in self.thresholds.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"threshold for {label!r} must be in [0, 1], got {value}")
        return self

    def save(self, directory: str | Path) -> Path:
        """Write the card into ``directory``."""
        path = Path(directory) / CARD_FILE
        path.write_text(yaml.safe_dump(self.model_dump(), sort_keys=False), encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> StageCard:
        """Read the card of a local model directory."""
        path = Path(directory) / CARD_FILE
        try:
            return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except FileNotFoundError as exc:
            raise ModelDirError(
                f"{directory} has no {CARD_FILE}: train it with `triage train` or run `make demo`"
            ) from exc
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise ModelDirError(f"{path} is invalid: {exc}") from exc


def weights_fingerprint(directory: str | Path) -> str:
    """SHA-256 over a checkpoint's weight files (safetensors or PyTorch bins, in name order)."""
    files = sorted(Path(directory).glob("*.safetensors")) + sorted(
        Path(directory).glob("pytorch_model*.bin")
    )
    if not files:
        raise ModelDirError(f"{directory} holds no weight files")
    digest = hashlib.sha256()
    for path in files:
        with path.open("rb") as f:
            while chunk := f.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()
