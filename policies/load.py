"""What a policy asks of counselors: cases per 10,000 messages by tier, on scored traffic.

The stages score a sample of traffic once (``ScoredMessage``); any policy is then applied to
those results in milliseconds, so a lead sees what a threshold costs before saving it. A
group counts units: a message, or a person (a user id) whose most urgent message counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from policies.engine import decide
from policies.schema import Policy
from stages.results import StageResult

TIERS = ("urgent", "review", "none")
_RANK = {tier: k for k, tier in enumerate(TIERS)}


class ScoredMessage(BaseModel):
    """One message of a traffic sample with every stage's result (no text is kept)."""

    model_config = ConfigDict(frozen=True)

    group: str = Field(description="The sample it belongs to, e.g. 'everyday messages'.")
    unit: str | None = Field(default=None, description="A person's id: counted once per person.")
    at_risk: bool | None = Field(default=None, description="Known to need a person (or not).")
    safety: StageResult
    crisis: StageResult
    support: StageResult | None = None
    language: StageResult | None = None
    length: int = Field(ge=0)


class GroupLoad(BaseModel):
    """Tiers for one group: counts, cases per 10,000, and what reaches a person."""

    group: str
    units: int
    tiers: dict[str, int]
    per_10k: dict[str, float]
    reach_person: float = Field(description="Share of units reaching a person (urgent+review).")
    reach_urgent: float
    at_risk: bool | None = Field(description="All units at risk (True), none (False), mixed.")


def tier_of(policy: Policy, message: ScoredMessage) -> str:
    """The tier the policy gives one scored message (no conversation, as a first message)."""
    return decide(
        policy,
        safety=message.safety,
        crisis=message.crisis,
        support=message.support,
        message_length=message.length,
        language=message.language,
    ).tier


def load_table(policy: Policy, messages: Iterable[ScoredMessage]) -> list[GroupLoad]:
    """Per group, in order of first appearance: tiers by unit and the share reaching a person."""
    by_unit: dict[str, dict[str, str]] = defaultdict(dict)
    risk: dict[str, set[bool | None]] = defaultdict(set)
    for k, message in enumerate(messages):
        key = message.unit if message.unit is not None else f"#{k}"
        tier = tier_of(policy, message)
        units = by_unit[message.group]
        units[key] = min(units.get(key, "none"), tier, key=_RANK.__getitem__)
        risk[message.group].add(message.at_risk)
    out = []
    for group, units in by_unit.items():
        counts = {tier: sum(1 for t in units.values() if t == tier) for tier in TIERS}
        n = len(units)
        flags = risk[group]
        out.append(
            GroupLoad(
                group=group,
                units=n,
                tiers=counts,
                per_10k={t: round(10_000 * c / n, 1) for t, c in counts.items()},
                reach_person=round((counts["urgent"] + counts["review"]) / n, 4),
                reach_urgent=round(counts["urgent"] / n, 4),
                at_risk=next(iter(flags)) if len(flags) == 1 else None,
            )
        )
    return out
