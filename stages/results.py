"""Typed, frozen results that every stage returns."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from stages.frames import Frame


class StageStatus(str, Enum):
    """Whether a stage scored the text; an error is turned into a fail-safe decision."""

    OK = "ok"
    ERROR = "error"


class Evidence(BaseModel):
    """A span of the (normalised) message that drove a result."""

    model_config = ConfigDict(frozen=True)

    category: str = Field(description="Why the span matters, e.g. 'self_harm_intent'.")
    phrase: str = Field(description="The pattern from the phrase list that matched.")
    start: int = Field(description="Start offset in the normalised text.")
    end: int = Field(description="End offset in the normalised text.")
    frame: Frame | None = Field(
        default=None, description="Who is at risk, when, and what the text is doing."
    )

    @property
    def urgent(self) -> bool:
        """A present, first-hand disclosure (or a span whose frame was not read)."""
        return self.frame is None or self.frame.urgent


class StageResult(BaseModel):
    """What one stage says about one message."""

    model_config = ConfigDict(frozen=True)

    stage: str = Field(description="Stage name: 'safety_net', 'crisis' or 'support'.")
    status: StageStatus = StageStatus.OK
    label: str | None = Field(default=None, description="Label after thresholds.")
    scores: dict[str, float] = Field(default_factory=dict, description="Label -> probability.")
    threshold: float | None = Field(
        default=None, description="Threshold that the label's score was compared with."
    )
    confident: bool = Field(default=True, description="The label's score reached its threshold.")
    evidence: tuple[Evidence, ...] = ()
    error: str | None = Field(default=None, description="Short error kind when status=error.")

    @classmethod
    def failed(cls, stage: str, error: str) -> StageResult:
        """A result that says the stage could not score the text."""
        return cls(stage=stage, status=StageStatus.ERROR, confident=False, error=error)

    @property
    def ok(self) -> bool:
        """True when the stage scored the text."""
        return self.status is StageStatus.OK
