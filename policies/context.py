"""Rising risk across the turns of one conversation: pure functions of recent turn scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from policies.schema import ConversationSpec, Policy
from stages.labels import CRISIS, DEFAULT_CRISIS_THRESHOLD
from stages.results import StageResult


@dataclass(frozen=True)
class Turn:
    """What is remembered of one message of a conversation."""

    number: int
    at: float  # time.time() when it was routed
    risk: float | None  # stage-one score / crisis threshold (>= 1: flagged alone); None: unknown
    text: str | None = None  # only when the policy reads turns together


@dataclass(frozen=True)
class ContextSignal:
    """Why the conversation escalates, and which turns did it."""

    reason: str
    turns: tuple[int, ...]


def review_threshold(policy: Policy, crisis: StageResult) -> float:
    """The calibrated risk from which a person reviews: the policy's, else the model's tuned one."""
    if policy.risk.review_at is not None:
        return policy.risk.review_at
    return crisis.threshold if crisis.threshold is not None else DEFAULT_CRISIS_THRESHOLD


def turn_risk(policy: Policy, safety: StageResult, crisis: StageResult) -> float | None:
    """A turn's risk relative to the review threshold; an urgent net match counts as flagged."""
    if not crisis.ok:
        return None
    risk = crisis.scores.get(CRISIS, 0.0) / max(review_threshold(policy, crisis), 1e-6)
    if safety.ok and any(e.urgent or not policy.risk.frames for e in safety.evidence):
        risk = max(risk, 1.0)
    return risk


def _of_concern(spec: ConversationSpec, turn: Turn) -> bool:
    return turn.risk is None or turn.risk >= spec.concern  # unknown is not safe


def concern_signal(spec: ConversationSpec, window: Sequence[Turn]) -> ContextSignal | None:
    """Escalate when enough turns of the window (oldest first, this one last) are of concern.

    The current turn must be of concern itself: a conversation that has calmed down is not
    escalated again on every later message.
    """
    if not window or not _of_concern(spec, window[-1]):
        return None
    hits = tuple(t.number for t in window if _of_concern(spec, t))
    if len(hits) < spec.min_concern_turns:
        return None
    return ContextSignal(f"rising_risk:concern_turns:{len(hits)}/{len(window)}", hits)


def join_turns(turns: Sequence[Turn]) -> str:
    """The turns' texts as one text, one turn per line (what stage one reads together)."""
    return "\n".join(t.text or "" for t in turns)


def contributing_turns(
    window: Sequence[Turn], full: float, without: Sequence[float]
) -> tuple[int, ...]:
    """Turns whose removal lowers the joined score most (at least half the largest drop)."""
    drops = [full - s for s in without]
    top = max(drops)
    if top <= 0:
        return (window[-1].number,)
    return tuple(t.number for t, d in zip(window, drops, strict=True) if d >= top / 2)
