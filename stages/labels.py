"""Label names shared by stages, policy, training and the review queue."""

from __future__ import annotations

CRISIS = "crisis"
NOT_CRISIS = "not_crisis"
CRISIS_LABELS: tuple[str, str] = (NOT_CRISIS, CRISIS)
# A crisis stage with no tuned threshold (a Hugging Face model used as it is) flags at this.
DEFAULT_CRISIS_THRESHOLD = 0.5

SUPPORT_LABELS: tuple[str, ...] = (
    "crisis_support",
    "emotional_support",
    "positive_support",
    "information_needed",
    "neutral",
)
