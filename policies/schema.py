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
    resources: list[str] = Field(
        default_factory=list,
        description="Keys of `resources` whose text the reply carries (by the user's region).",
    )
    content_violation: bool = Field(
        default=False,
        description="A moderation action (hide, warn, remove). Never allowed for crisis or "
        "distress: a person in crisis is answered with help, not a rule violation.",
    )


class Rules(BaseModel):
    """Which action each situation gets. Situations are checked in the order listed here."""

    model_config = ConfigDict(extra="forbid")

    fail_safe: str = Field(description="A stage, the policy or the database failed.")
    empty_message: str = Field(description="The message is empty or whitespace only.")
    urgent: str = Field(
        description="Urgent tier: first-person crisis language now (safety net), or stage "
        "one's calibrated risk at or above `risk.urgent_at` in a sentence about the writer."
    )
    rising_risk: str | None = Field(
        default=None,
        description="Recent turns of the conversation add up to a risk that the message "
        "alone does not show (needs `conversation`); must be a human action. None: off.",
    )
    review: str = Field(
        description="Review tier: the risk is uncertain (calibrated risk between "
        "`risk.review_at` and `risk.urgent_at`), or crisis language whose frame lowers it "
        "(past or recovered, hypothetical, negated, a question about the topic, quoted, "
        "figurative). Must be a human action: first-person crisis language always reaches a "
        "person."
    )
    someone_else: str | None = Field(
        default=None,
        description="The only crisis language is about someone else (a friend, or the person "
        "addressed: 'please dont kill yourself'): e.g. guidance on helping them. None: the "
        "`review` action.",
    )
    unverified_language: str | None = Field(
        default=None,
        description="The message is not in a language the models were trained on "
        "(needs `language`); must be a human action. None: no language guard.",
    )
    support: dict[str, str] = Field(
        description="No risk: the automatic reply by stage two's support class."
    )


class RiskSpec(BaseModel):
    """How stage one's calibrated risk and the frames of crisis language set the tier."""

    model_config = ConfigDict(extra="forbid")

    review_at: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Calibrated risk from which a person reviews the message. None: stage "
        "one's recall-tuned threshold (written with the model by `triage tune-thresholds`).",
    )
    urgent_at: float = Field(
        default=0.9,
        ge=0.0,
        le=1.0,
        description="Calibrated risk from which stage one alone makes a message urgent, when "
        "the sentence it read is about the writer, now.",
    )
    frames: bool = Field(
        default=True,
        description="Let the frame of crisis language (who is at risk, when, what the text "
        "is doing) lower urgent to review or send it to `rules.someone_else`. False: every "
        "safety-net match is urgent.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> RiskSpec:
        if self.review_at is not None and self.review_at > self.urgent_at:
            raise ValueError(
                f"risk.review_at ({self.review_at}) must not exceed urgent_at ({self.urgent_at})"
            )
        return self


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


class ConversationSpec(BaseModel):
    """How the recent turns of a conversation count (``rules.rising_risk``)."""

    model_config = ConfigDict(extra="forbid")

    window_turns: int = Field(
        default=5, ge=2, le=50, description="Recent turns considered, this message included."
    )
    ttl_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="Turns older than this are forgotten."
    )
    concern: float = Field(
        default=0.75,
        gt=0.0,
        lt=1.0,
        description="A turn is of concern when its stage-one score reaches this fraction of "
        "the crisis threshold (or the safety net fired on it).",
    )
    min_concern_turns: int = Field(
        default=2,
        ge=2,
        description="Escalate when this many turns in the window are of concern, this one too.",
    )
    read_together: bool = Field(
        default=False,
        description="Hold the window's text in process memory (never on disk, forgotten after "
        "ttl_minutes) so stage one also reads the turns as one text.",
    )

    @model_validator(mode="after")
    def _fits_window(self) -> ConversationSpec:
        if self.min_concern_turns > self.window_turns:
            raise ValueError(
                f"conversation.min_concern_turns ({self.min_concern_turns}) must not exceed "
                f"window_turns ({self.window_turns})"
            )
        return self


class ShadowSpec(BaseModel):
    """A candidate run beside the live policy: decided and recorded, never acted on."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="Names the candidate in audit and report.")
    crisis_model: str | None = Field(default=None, description="Candidate stage one.")
    support_model: str | None = Field(default=None, description="Candidate stage two.")
    risk: RiskSpec | None = Field(
        default=None, description="Candidate risk thresholds (None: the live policy's)."
    )

    @model_validator(mode="after")
    def _has_candidate(self) -> ShadowSpec:
        if not (self.crisis_model or self.support_model or self.risk):
            raise ValueError("shadow: name a candidate crisis_model, support_model or risk")
        return self


class Privacy(BaseModel):
    """What the system may keep of a message."""

    model_config = ConfigDict(extra="forbid")

    store_raw_text: bool = Field(
        default=False,
        description="Keep the message text on human cases. Otherwise a keyed hash and length.",
    )


SCHEMA_VERSION = 2


class Policy(BaseModel):
    """A routing policy: stage outputs -> risk tier -> action."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(
        default=SCHEMA_VERSION,
        ge=SCHEMA_VERSION,
        le=SCHEMA_VERSION,
        description="The policy format; older files are migrated when loaded.",
    )
    version: str = Field(min_length=1, description="Recorded on every decision it makes.")
    description: str = ""
    actions: dict[str, ActionSpec] = Field(min_length=1)
    rules: Rules
    risk: RiskSpec = Field(default_factory=RiskSpec)
    privacy: Privacy = Field(default_factory=Privacy)
    language: LanguageGuardSpec = Field(default_factory=LanguageGuardSpec)
    conversation: ConversationSpec = Field(default_factory=ConversationSpec)
    shadow: ShadowSpec | None = None
    resources: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Reply texts by key, then by region code; each needs a 'default' text.",
    )
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
                "rules.urgent": self.rules.urgent,
                "rules.review": self.rules.review,
            }
            | {
                f"rules.{rule}": action
                for rule in ("rising_risk", "someone_else", "unverified_language")
                if (action := getattr(self.rules, rule))
            }
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
        for where in (
            "rules.fail_safe",
            "rules.urgent",
            "rules.review",
            "rules.rising_risk",
            "rules.unverified_language",
        ):
            if where in named and not self.actions[named[where]].human:
                raise ValueError(f"{where}: must be an action with human: true (fail closed)")
        self._check_resources(named)
        return self

    def _check_resources(self, named: dict[str, str]) -> None:
        for key, texts in self.resources.items():
            if "default" not in texts:
                raise ValueError(f"resources.{key}: needs a 'default' text for other regions")
        for name, spec in self.actions.items():
            unknown = set(spec.resources) - set(self.resources)
            if unknown:
                raise ValueError(
                    f"actions.{name}.resources: unknown {sorted(unknown)}; "
                    f"defined resources: {sorted(self.resources)}"
                )
        distress = (
            set(named)
            - {"rules.empty_message"}
            - {f"rules.support.{k}" for k in ("positive_support", "information_needed", "neutral")}
        )
        for where in sorted(distress):
            if self.actions[named[where]].content_violation:
                raise ValueError(
                    f"{where}: {named[where]!r} is a content_violation action; crisis and "
                    "distress are answered with help, never as a rule violation"
                )
        for where in ("rules.urgent", "rules.someone_else"):
            if where in named and self.resources and not self.actions[named[where]].resources:
                raise ValueError(
                    f"{where}: {named[where]!r} must attach a resource (e.g. a crisis line) "
                    "when the policy defines resources"
                )

    def action(self, name: str) -> ActionSpec:
        """The spec of a named action."""
        return self.actions[name]

    @property
    def someone_else_action(self) -> str:
        """The action for crisis language about someone else only."""
        return self.rules.someone_else or self.rules.review
