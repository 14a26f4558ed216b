"""Policies written for an older format, brought to the current one with a notice per change.

Format 1 (no ``schema_version``) routed on stage one's flag (``rules.crisis``) and on stage
two's confidence (``rules.low_confidence``, ``thresholds.support``). Format 2 routes on risk
tiers: ``rules.urgent`` and ``rules.review`` with ``risk.review_at`` / ``risk.urgent_at`` on
the calibrated risk; stage two only picks the automatic support.
"""

from __future__ import annotations

import copy
from typing import Any

from policies.schema import SCHEMA_VERSION, RiskSpec

_RENAMED_RULES = {"crisis": "urgent", "low_confidence": "review"}


def migrate(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The policy data in the current format, and one notice per change made.

    Data already in the current format comes back unchanged with no notice. A format this code
    does not know is left for validation to refuse.
    """
    if "schema_version" in data:
        return data, []
    out = copy.deepcopy(data)
    notices = []
    rules = out.get("rules")
    if isinstance(rules, dict):
        for old, new in _RENAMED_RULES.items():
            if old in rules and new not in rules:
                rules[new] = rules.pop(old)
                notices.append(f"rules.{old} is now rules.{new}")
        notices += _support_notices(rules, out.get("actions"))
    thresholds = out.pop("thresholds", None)
    risk = out.setdefault("risk", {})
    if isinstance(thresholds, dict):
        if thresholds.get("crisis") is not None and isinstance(risk, dict):
            risk["review_at"] = thresholds["crisis"]
            notices.append(
                "thresholds.crisis is now risk.review_at (on stage one's calibrated risk: "
                "check the value with `triage load-report`)"
            )
        if thresholds.get("support"):
            notices.append(
                "thresholds.support was dropped: stage two's confidence no longer sends a "
                "message to a person, only the risk does"
            )
    notices.append(
        f"risk.urgent_at set to {RiskSpec().urgent_at}: stage one alone makes a message "
        "urgent from that calibrated risk (below it and from risk.review_at: review)"
    )
    shadow = out.get("shadow")
    if isinstance(shadow, dict) and isinstance(shadow.get("thresholds"), dict):
        crisis = shadow.pop("thresholds").get("crisis")
        if crisis is not None:
            shadow["risk"] = {"review_at": crisis}
        notices.append("shadow.thresholds is now shadow.risk")
    out["schema_version"] = SCHEMA_VERSION
    return out, notices


def _support_notices(rules: dict[str, Any], actions: Any) -> list[str]:
    """Support classes that still open a case on stage two's emotion alone."""
    support = rules.get("support")
    if not isinstance(support, dict) or not isinstance(actions, dict):
        return []
    return [
        f"rules.support.{label}: {action!r} opens a case on stage two's class alone; the "
        "shipped policy answers it with an automatic reply (auto_support)"
        for label, action in support.items()
        if isinstance(actions.get(action), dict) and actions[action].get("human")
    ]
