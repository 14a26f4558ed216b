"""The emotion -> support-class mapping, kept as data (support_mapping.yaml)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from stages.labels import SUPPORT_LABELS

GOEMOTIONS_LABELS: tuple[str, ...] = (
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
)
MultiLabelRule = Literal["most_severe", "first_listed"]


class SupportMapping(BaseModel):
    """Which support class each GoEmotions emotion belongs to."""

    model_config = ConfigDict(extra="forbid")

    severity: list[str] = Field(description="Support classes, most severe first.")
    classes: dict[str, list[str]] = Field(description="Support class -> emotions.")

    @model_validator(mode="after")
    def _complete(self) -> SupportMapping:
        if sorted(self.severity) != sorted(SUPPORT_LABELS) or set(self.classes) != set(
            SUPPORT_LABELS
        ):
            raise ValueError(f"severity and classes must name exactly {list(SUPPORT_LABELS)}")
        placed = [e for emotions in self.classes.values() for e in emotions]
        missing = set(GOEMOTIONS_LABELS) - set(placed)
        unknown = set(placed) - set(GOEMOTIONS_LABELS)
        twice = {e for e in placed if placed.count(e) > 1}
        if missing or unknown or twice:
            raise ValueError(
                f"emotions missing {sorted(missing)}, unknown {sorted(unknown)}, "
                f"placed twice {sorted(twice)}"
            )
        return self

    def class_of(self, emotion: str) -> str:
        """The support class of one emotion."""
        return next(c for c, emotions in self.classes.items() if emotion in emotions)

    def label(self, emotion_ids: list[int], rule: MultiLabelRule = "most_severe") -> str:
        """One support class for a (multi-label) GoEmotions example."""
        classes = [self.class_of(GOEMOTIONS_LABELS[i]) for i in emotion_ids]
        if rule == "first_listed":
            return classes[0]
        return min(classes, key=self.severity.index)


def load_mapping(path: str | Path | None = None) -> SupportMapping:
    """Read the mapping file (the shipped one by default)."""
    path = Path(path) if path else Path(str(resources.files("training") / "support_mapping.yaml"))
    return SupportMapping.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
