"""The policy engine: a pure function of (stage results, policy) -> Decision.

Two questions, kept apart. First, does a person need to see the message, and how soon? That
is the risk tier, read from the safety net's matches and their frames, stage one's calibrated
risk and the frame of the sentence it read, and the conversation: ``urgent``, ``review`` or
``none``. Second, for messages no person needs to see: which automatic support fits? That is
stage two's class. Stage two's uncertainty never opens a case; uncertainty about the risk does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policies.context import ContextSignal, review_threshold
from policies.decision import Decision, Resource, Tier
from policies.schema import Policy
from stages.labels import CRISIS, SUPPORT_LABELS
from stages.results import StageResult

_TIER_ORDER: dict[str, int] = {"urgent": 0, "review": 1, "someone_else": 2, "none": 3}


@dataclass
class RiskRead:
    """What the risk signals of one message say: the tier and why.

    ``kind`` is the tier, or ``someone_else`` when the only crisis language is about someone
    else; ``high`` puts the message in the upper half of its tier (queue priority).
    """

    kind: str = "none"
    high: bool = False
    reasons: list[str] = field(default_factory=list)

    def raise_to(self, kind: str, high: bool) -> None:
        """Keep the more urgent of the current reading and ``kind``."""
        if _TIER_ORDER[kind] < _TIER_ORDER[self.kind]:
            self.kind, self.high = kind, high
        elif kind == self.kind:
            self.high = self.high or high


def read_risk(policy: Policy, safety: StageResult, crisis: StageResult) -> RiskRead:
    """The risk tier of one message from the safety net and stage one (both scored)."""
    read = RiskRead()
    frames = policy.risk.frames
    for e in safety.evidence if safety.ok and safety.label == CRISIS else ():
        read.reasons.append(f"safety_net:{e.category}")
        if not frames or e.urgent:
            read.raise_to("urgent", True)
        else:
            assert e.frame is not None  # e.urgent is True without a frame
            read.reasons.append(f"frame:{e.category}:{e.frame.describe()}")
            read.raise_to("someone_else" if e.frame.about_someone_else else "review", False)
    read.reasons = list(dict.fromkeys(read.reasons))
    if not crisis.ok:
        return read
    risk = crisis.scores.get(CRISIS, 0.0)
    review_at = review_threshold(policy, crisis)
    urgent_at = max(policy.risk.urgent_at, review_at)
    if risk < review_at:
        return read
    frame = next((e.frame for e in crisis.evidence if e.frame is not None), None)
    if risk >= urgent_at:
        read.reasons.append(f"stage_one:{risk:.2f}>={urgent_at:.2f}")
    else:  # the risk is uncertain: a person reviews it
        read.reasons.append(f"low_confidence:risk:{risk:.2f}")
    if frames and frame is not None and frame.about_someone_else:
        # The sentence stage one read is about the person addressed or named. That alone is
        # too little to keep a post from a person (r/SuicideWatch posts speak of others too):
        # guidance only where the safety net read the crisis language as someone else's.
        read.reasons.append(f"frame:stage_one:{frame.describe()}")
        read.raise_to("someone_else" if read.kind == "someone_else" else "review", False)
    elif risk >= urgent_at and frames and frame is not None and frame.lowers:
        read.reasons.append(f"frame:stage_one:{frame.describe()}")
        read.raise_to("review", True)
    elif risk >= urgent_at:
        read.raise_to("urgent", risk >= (urgent_at + 1) / 2)
    else:
        read.raise_to("review", risk >= (review_at + urgent_at) / 2)
    return read


def fail_safe_decision(
    policy: Policy, reason: str, *, message_length: int, conversation_id: str | None = None
) -> Decision:
    """A decision that sends the message to a human because part of the path failed."""
    return decision_for(
        policy,
        policy.rules.fail_safe,
        tier="urgent",
        crisis=False,
        crisis_score=0.0,
        reasons=[f"fail_safe:{reason}"],
        message_length=message_length,
        conversation_id=conversation_id,
    )


def decision_for(
    policy: Policy, action: str, *, tier: Tier, high: bool = True, **fields: object
) -> Decision:
    """The decision that takes ``action``: human, queue priority and policy version from it.

    A human case in the lower half of its tier (``high`` False) waits behind the upper half.
    """
    spec = policy.action(action)
    priority = min(spec.priority + (0 if high else 1), 9) if spec.human else None
    return Decision.model_validate(
        {
            "action": action,
            "human": spec.human,
            "priority": priority,
            "tier": tier,
            "policy_version": policy.version,
            **fields,
        }
    )


def needs_support_stage(policy: Policy, safety: StageResult, crisis: StageResult) -> bool:
    """False when stage two cannot change the action (the message is already urgent)."""
    if policy.support_stage == "always":
        return True
    return not (safety.ok and crisis.ok and read_risk(policy, safety, crisis).kind == "urgent")


def with_resources(policy: Policy, decision: Decision, region: str | None) -> Decision:
    """The decision with its action's resource texts for the user's region ('default' else)."""
    out = []
    for key in policy.action(decision.action).resources:
        texts = policy.resources[key]
        used = region if region in texts else "default"
        out.append(Resource(key=key, region=used, text=texts[used]))
    return decision.model_copy(update={"region": region, "resources": tuple(out)})


def decide(
    policy: Policy,
    *,
    safety: StageResult,
    crisis: StageResult,
    support: StageResult | None,
    message_length: int,
    conversation_id: str | None = None,
    language: StageResult | None = None,
    context: ContextSignal | None = None,
) -> Decision:
    """Apply the policy to one message's stage results: the risk tier first, then support.

    ``context`` is the conversation's rising-risk signal, if its recent turns raised one.
    """
    risk = crisis.scores.get(CRISIS, 0.0) if crisis.ok else 0.0
    net_fired = safety.ok and safety.label == CRISIS
    common: dict[str, Any] = {
        "message_length": message_length,
        "conversation_id": conversation_id,
        "crisis": net_fired or crisis.ok and risk >= review_threshold(policy, crisis),
        "crisis_score": risk,
        "evidence": safety.evidence + crisis.evidence,
    }
    if support is not None and support.ok:  # counselors see the kind of support too
        if support.label not in SUPPORT_LABELS:
            raise ValueError(f"stage two returned unknown support class {support.label!r}")
        common |= {"support": support.label, "support_scores": dict(support.scores)}
    failed = [r for r in (safety, crisis, support, language) if r is not None and not r.ok]
    read = read_risk(policy, safety, crisis)
    if failed:
        reasons = ["fail_safe:model_error"] + [f"stage_failed:{r.stage}:{r.error}" for r in failed]
        return decision_for(
            policy, policy.rules.fail_safe, tier="urgent", reasons=reasons + read.reasons, **common
        )
    rising = context is not None and policy.rules.rising_risk is not None
    if read.kind == "urgent" or read.kind == "review" and not rising:
        tier: Tier = "urgent" if read.kind == "urgent" else "review"
        action = policy.rules.urgent if tier == "urgent" else policy.rules.review
        return decision_for(
            policy, action, tier=tier, high=read.high, reasons=read.reasons, **common
        )
    if context is not None and policy.rules.rising_risk:
        # The message alone is not urgent; the conversation is.
        return decision_for(
            policy,
            policy.rules.rising_risk,
            tier="urgent",
            reasons=[*read.reasons, context.reason],
            context_turns=context.turns,
            **common,
        )
    return _without_risk(policy, read, support, language, common)


def _without_risk(
    policy: Policy,
    read: RiskRead,
    support: StageResult | None,
    language: StageResult | None,
    common: dict[str, Any],
) -> Decision:
    """No tier from the risk signals: the language guard, someone else, or support."""
    reasons = list(read.reasons)
    if (
        policy.rules.unverified_language
        and language is not None
        and (language.label or "").startswith("unverified")
    ):
        # The models cannot read it: their "no risk" means nothing here.
        reasons.append(f"unverified_language:{(language.label or '').split(':', 1)[-1]}")
        return decision_for(
            policy, policy.rules.unverified_language, tier="review", reasons=reasons, **common
        )
    if read.kind == "someone_else":
        action = policy.someone_else_action
        tier: Tier = "review" if policy.action(action).human else "none"
        return decision_for(
            policy, action, tier=tier, high=False, reasons=[*reasons, "someone_else"], **common
        )
    if support is None:
        # Stage two was skipped although the message is not urgent: cannot happen by
        # needs_support_stage, but if it does, a person decides.
        return decision_for(
            policy,
            policy.rules.review,
            tier="review",
            high=False,
            reasons=[*reasons, "no_support_stage"],
            **common,
        )
    label = support.label or ""
    action = policy.rules.support[label]
    return decision_for(
        policy,
        action,
        tier="review" if policy.action(action).human else "none",
        high=False,
        reasons=[*reasons, f"support:{label}"],
        **common,
    )


def decide_empty(
    policy: Policy, *, message_length: int = 0, conversation_id: str | None = None
) -> Decision:
    """The decision for an empty or whitespace-only message."""
    return decision_for(
        policy,
        policy.rules.empty_message,
        tier="none",
        crisis=False,
        crisis_score=0.0,
        reasons=["empty_message"],
        message_length=message_length,
        conversation_id=conversation_id,
    )
