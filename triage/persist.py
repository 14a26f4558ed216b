"""Persist before returning: a batch's cases and audit records, or the spool when that fails."""

from __future__ import annotations

import logging
import uuid

from policies.decision import Decision
from policies.engine import decision_for, with_resources
from policies.schema import Policy
from review_queue.store import CaseStore
from stages.errors import DatabaseUnavailableError

log = logging.getLogger("triage")


def persist(
    store: CaseStore,
    decisions: list[Decision],
    texts: list[str],
    policy: Policy,
    tenant: str | None,
    shadows: list[Decision | None],
) -> list[Decision]:
    """Commit the batch's cases and audit records; spool them when the database refuses.

    Every decision of a spooled batch goes to a person with ``fail_safe:database_error``.
    Never raises: if the spool cannot be written either, the decisions say so.
    """
    try:
        store.record(decisions, texts, policy, tenant=tenant, shadows=shadows)
        return decisions
    except DatabaseUnavailableError as exc:
        log.error("database unavailable; spooling %d decisions: %s", len(decisions), exc)
    except Exception:  # whatever else failed on the way to the database: spool, never raise
        log.exception("persisting failed; spooling %d decisions", len(decisions))
    decisions = [with_resources(policy, database_fail_safe(d, policy), d.region) for d in decisions]
    try:
        store.spool_batch(decisions, texts, policy, tenant=tenant, shadows=shadows)
    except Exception:
        log.critical("spool write failed too; %d human decisions not persisted", len(decisions))
        return [
            d.model_copy(update={"case_id": None, "reasons": [*d.reasons, "fail_safe:spool_error"]})
            for d in decisions
        ]
    return decisions


def database_fail_safe(decision: Decision, policy: Policy) -> Decision:
    """The database failed: every message of the batch goes to a human, and says why."""
    reasons = ["fail_safe:database_error", *decision.reasons]
    if decision.human:
        return decision.model_copy(update={"reasons": reasons})
    kept = decision.model_dump(
        exclude={"action", "human", "priority", "tier", "policy_version", "reasons", "case_id"}
    )
    return decision_for(
        policy,
        policy.rules.fail_safe,
        tier="urgent",
        reasons=reasons,
        case_id=str(uuid.uuid4()),
        **kept,
    )
