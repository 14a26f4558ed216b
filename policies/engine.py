"""The policy engine: a pure function of (stage results, policy) -> Decision."""

from __future__ import annotations

from policies.context import ContextSignal, crisis_threshold
from policies.decision import Decision, Resource
from policies.schema import Policy
from stages.labels import CRISIS, SUPPORT_LABELS
from stages.results import StageResult


def fail_safe_decision(
    policy: Policy, reason: str, *, message_length: int, conversation_id: str | None = None
) -> Decision:
    """A decision that sends the message to a human because part of the path failed."""
    action = policy.rules.fail_safe
    return Decision(
        action=action,
        human=True,
        priority=policy.action(action).priority,
        crisis=False,
        crisis_score=0.0,
        reasons=[f"fail_safe:{reason}"],
        policy_version=policy.version,
        message_length=message_length,
        conversation_id=conversation_id,
    )


def needs_support_stage(policy: Policy, safety: StageResult, crisis: StageResult) -> bool:
    """False when stage two cannot change the action (the message is already crisis)."""
    if policy.support_stage == "always":
        return True
    return not (
        safety.ok and safety.label == CRISIS or crisis.ok and _crisis_flag(policy, crisis)[0]
    )


def _crisis_flag(policy: Policy, crisis: StageResult) -> tuple[bool, float, float]:
    score = crisis.scores.get(CRISIS, 0.0)
    threshold = crisis_threshold(policy, crisis)
    return score >= threshold, score, threshold


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
    """Apply the policy's rules, in order, to one message's stage results.

    ``context`` is the conversation's rising-risk signal, if its recent turns raised one.
    """
    reasons: list[str] = []
    failed = [r for r in (safety, crisis, support, language) if r is not None and not r.ok]
    if failed:
        reasons.append("fail_safe:model_error")
        reasons += [f"stage_failed:{r.stage}:{r.error}" for r in failed]

    net_fired = safety.ok and safety.label == CRISIS
    reasons += [f"safety_net:{c}" for c in dict.fromkeys(e.category for e in safety.evidence)]
    crisis_flag, crisis_score, flag_threshold = (
        _crisis_flag(policy, crisis) if crisis.ok else (False, 0.0, 1.0)
    )
    if crisis_flag:
        reasons.append(f"stage_one:{crisis_score:.2f}>={flag_threshold:.2f}")

    support_label: str = ""
    support_scores: dict[str, float] = {}
    top, confident = 0.0, False
    if support is not None and support.ok:
        support_label, support_scores = support.label or "", dict(support.scores)
        if support_label not in SUPPORT_LABELS:
            raise ValueError(f"stage two returned unknown support class {support_label!r}")
        threshold = policy.thresholds.support.get(support_label, support.threshold or 0.0)
        top = support_scores[support_label]
        confident = top >= threshold

    context_turns: tuple[int, ...] = ()
    if failed:
        action = policy.rules.fail_safe
    elif net_fired or crisis_flag:
        action = policy.rules.crisis
    elif context is not None and policy.rules.rising_risk:
        # The message alone is below the threshold; the conversation is not.
        action = policy.rules.rising_risk
        reasons.append(context.reason)
        context_turns = context.turns
    elif (
        policy.rules.unverified_language
        and language is not None
        and (language.label or "").startswith("unverified")
    ):
        # The models cannot read it: their "not crisis" means nothing here.
        action = policy.rules.unverified_language
        reasons.append(f"unverified_language:{(language.label or '').split(':', 1)[-1]}")
    elif support is None:
        # Stage two was skipped although the message is not crisis: cannot happen by
        # needs_support_stage, but if it does, a person decides.
        action = policy.rules.low_confidence
        reasons.append("low_confidence:no_support_stage")
    elif not confident:
        action = policy.rules.low_confidence
        reasons.append(f"low_confidence:{support_label}:{top:.2f}")
    else:
        action = policy.rules.support[support_label]
        reasons.append(f"support:{support_label}")

    spec = policy.action(action)
    return Decision(
        action=action,
        human=spec.human,
        priority=spec.priority if spec.human else None,
        crisis=net_fired or crisis_flag,
        crisis_score=crisis_score,
        support=support_label or None,
        support_scores=support_scores,
        reasons=reasons,
        evidence=safety.evidence + crisis.evidence,
        policy_version=policy.version,
        message_length=message_length,
        conversation_id=conversation_id,
        context_turns=context_turns,
    )


def decide_empty(
    policy: Policy, *, message_length: int = 0, conversation_id: str | None = None
) -> Decision:
    """The decision for an empty or whitespace-only message."""
    spec = policy.action(policy.rules.empty_message)
    return Decision(
        action=policy.rules.empty_message,
        human=spec.human,
        priority=spec.priority if spec.human else None,
        crisis=False,
        crisis_score=0.0,
        reasons=["empty_message"],
        policy_version=policy.version,
        message_length=message_length,
        conversation_id=conversation_id,
    )
