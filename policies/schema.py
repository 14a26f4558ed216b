"""The policy file's schema: what counselors' leads may write, validated at load."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from stages.labels import SUPPORT_LABELS


class ActionSpec(BaseModel):
    """What an action means for the queue."""

    model_config = ConfigDict(extra="forbid")

    human: bool = Field(description="True: a case is created for the human review queue.")
    priority: int = Field(
        default=9, ge=0, le=9, description="Queue priority, 0 = most urgent (human actions)."
    )
    sla_minutes: int | None = Field(
        default=None, ge=1, description="Minutes before an unclaimed case is escalated."
    )


class Rules(BaseModel):
    """Which action each situation gets. Situations are checked in the order listed here."""

    model_config = ConfigDict(extra="forbid")

    fail_safe: str = Field(description="A stage, the policy or the database failed.")
    empty_message: str = Field(description="The message is empty or whitespace only.")
    crisis: str = Field(description="The safety net fired or stage one passed its threshold.")
    low_confidence: str = Field(
        description="Stage two's top probability is below that class's threshold."
    )
    unverified_language: str | None = Field(
        default=None,
        description="The message is not in a language the models were trained on "
        "(needs `language`); must be a human action. None: no language guard.",
    )
    support: dict[str, str] = Field(
        description="Action per stage-two support class when none of the above applies."
    )


class Thresholds(BaseModel):
    """Optional overrides of the thresholds tuned with the models."""

    model_config = ConfigDict(extra="forbid")

    crisis: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Stage-one probability that flags crisis."
    )
    support: dict[str, float] = Field(
        default_factory=dict, description="Per-class minimum probability for stage two."
    )


class LanguageGuardSpec(BaseModel):
    """Which languages the models were trained on, and how sure the detector must be."""

    model_config = ConfigDict(extra="forbid")

    supported: list[str] = Field(default=["en"], min_length=1, description="ISO 639-1 codes.")
    max_confidence: float = Field(
        default=0.01,
        gt=0.0,
        lt=1.0,
        description="Unverified when the detector's confidence in the supported languages "
        "is below this.",
    )
    min_letters: int = Field(
        default=8, ge=1, description="Shorter Latin-script texts pass (too short to judge)."
    )


class Privacy(BaseModel):
    """What the system may keep of a message."""

    model_config = ConfigDict(extra="forbid")

    store_raw_text: bool = Field(
        default=False,
        description="Keep the message text on human cases. Otherwise a keyed hash and length.",
    )


class Policy(BaseModel):
    """A routing policy: stage outputs -> action."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, description="Recorded on every decision it makes.")
    description: str = ""
    actions: dict[str, ActionSpec] = Field(min_length=1)
    rules: Rules
    thresholds: Thresholds = Field(default_factory=Thresholds)
    privacy: Privacy = Field(default_factory=Privacy)
    language: LanguageGuardSpec = Field(default_factory=LanguageGuardSpec)
    support_stage: Literal["always", "when_needed"] = Field(
        default="always",
        description="when_needed: skip stage two when its result cannot change the action.",
    )

    @model_validator(mode="after")
    def _check_references(self) -> Policy:
        named = (
            {
                "rules.fail_safe": self.rules.fail_safe,
                "rules.empty_message": self.rules.empty_message,
                "rules.crisis": self.rules.crisis,
                "rules.low_confidence": self.rules.low_confidence,
            }
            | (
                {"rules.unverified_language": self.rules.unverified_language}
                if self.rules.unverified_language
                else {}
            )
            | {f"rules.support.{k}": v for k, v in self.rules.support.items()}
        )
        for where, action in named.items():
            if action not in self.actions:
                raise ValueError(
                    f"{where}: unknown action {action!r}; defined actions: {sorted(self.actions)}"
                )
        missing = set(SUPPORT_LABELS) - set(self.rules.support)
        extra = set(self.rules.support) - set(SUPPORT_LABELS)
        if missing or extra:
            raise ValueError(
                f"rules.support must name exactly {list(SUPPORT_LABELS)}; "
                f"missing {sorted(missing)}, unknown {sorted(extra)}"
            )
        unknown = set(self.thresholds.support) - set(SUPPORT_LABELS)
        if unknown:
            raise ValueError(f"thresholds.support: unknown classes {sorted(unknown)}")
        for where in ("rules.fail_safe", "rules.crisis", "rules.unverified_language"):
            if where in named and not self.actions[named[where]].human:
                raise ValueError(f"{where}: must be an action with human: true (fail closed)")
        return self

    def action(self, name: str) -> ActionSpec:
        """The spec of a named action."""
        return self.actions[name]
