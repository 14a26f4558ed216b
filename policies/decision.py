"""The routing decision returned for every message."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from stages.results import Evidence

Tier = Literal["urgent", "review", "none"]


class Resource(BaseModel):
    """A text the platform shows with its reply, e.g. a crisis line for the user's region."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="The policy's resource key, e.g. 'crisis_line'.")
    region: str = Field(description="The region whose text this is, or 'default'.")
    text: str


class Decision(BaseModel):
    """What to do with one message, and why."""

    model_config = ConfigDict(frozen=True)

    action: str = Field(description="Policy action, e.g. 'urgent_human_review'.")
    human: bool = Field(description="True when the message goes to the human review queue.")
    tier: Tier = Field(
        description="How soon a person must see it: urgent, review, or none (risk tiers)."
    )
    priority: int | None = Field(
        default=None, description="Queue priority (0 first) if human: by tier, then risk."
    )
    crisis: bool = Field(
        description="The safety net matched crisis language (in any frame) or stage one's risk "
        "reached the review threshold."
    )
    crisis_score: float = Field(
        ge=0.0, le=1.0, description="Stage one's calibrated risk (its probability if uncalibrated)."
    )
    support: str | None = Field(default=None, description="Stage two's support class.")
    support_scores: dict[str, float] = Field(default_factory=dict)
    reasons: list[str] = Field(description="Machine-readable reasons, most important first.")
    evidence: tuple[Evidence, ...] = Field(default=(), description="Spans that drove a flag.")
    case_id: str | None = Field(default=None, description="Set when a human case was persisted.")
    policy_version: str = Field(description="Version of the policy that decided.")
    message_length: int = Field(ge=0, description="Length of the message in characters.")
    conversation_id: str | None = None
    message_id: str | None = Field(
        default=None, description="The platform's id of the message, as given to route()."
    )
    user_id: str | None = Field(
        default=None, description="The platform's id of the writer, as given to route()."
    )
    metadata: dict[str, str] | None = Field(
        default=None, description="Short string pairs the platform attached to the message."
    )
    turn: int | None = Field(
        default=None, description="This message's turn in its conversation (1 = first seen)."
    )
    context_turns: tuple[int, ...] = Field(
        default=(), description="Turns that made the conversation escalate (rising risk)."
    )
    region: str | None = Field(default=None, description="The user's region, as given.")
    resources: tuple[Resource, ...] = Field(
        default=(), description="Texts to show with the reply (the action's resources)."
    )
