"""``Triage``: the one call a chat platform makes for every incoming message."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

import torch

from policies.decision import Decision
from policies.engine import decide, decide_empty, fail_safe_decision, needs_support_stage
from policies.holder import PolicyHolder
from policies.loader import default_policy_file
from policies.schema import Policy
from review_queue.store import CaseStore, DatabaseUnavailableError
from stages.attribution import crisis_evidence
from stages.labels import CRISIS
from stages.language_guard import LanguageGuard
from stages.protocol import Stage
from stages.results import StageResult
from stages.safety_net import SafetyNet, load_phrase_lists
from stages.transformer import SharedTokens, TransformerStage
from triage.settings import Settings, settings_from

log = logging.getLogger("triage")


def check_message(message: object, what: str = "message") -> str:
    """Return ``message`` if it is a ``str``; raise a ``TypeError`` that says what to do."""
    if isinstance(message, str):
        return message
    if isinstance(message, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"{what} must be str, got {type(message).__name__}: decode it first, "
            "e.g. data.decode('utf-8', errors='replace')"
        )
    raise TypeError(f"{what} must be str, got {type(message).__name__}")


_MAX_ID_CHARS = 256


def _check_id(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str or None, got {type(value).__name__}")
    if len(value) > _MAX_ID_CHARS or any(c == "\x00" or "\ud800" <= c <= "\udfff" for c in value):
        raise ValueError(
            f"{what} must be at most {_MAX_ID_CHARS} characters without NUL or lone surrogates"
        )
    return value


class Triage:
    """Route messages: safety net + stage one + stage two -> policy -> human queue.

    ``Triage()`` uses the embedded defaults (local models in ``models/``, the shipped policy,
    SQLite in ``.triage/``); keyword arguments override any ``Settings`` field.
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self.settings = settings or settings_from(overrides)
        s = self.settings
        if s.threads:
            torch.set_num_threads(s.threads)
        device = s.resolved_device()
        self.policies = PolicyHolder(s.policy_path or default_policy_file())
        # One process, several platforms: each tenant routes under its own policy file.
        self.tenant_policies = {name: PolicyHolder(path) for name, path in s.tenants.items()}
        self._language_guards: dict[str, LanguageGuard] = {}
        if self.policy.rules.unverified_language:  # load its models now, not on a first message
            self._language_guard(self.policy)
        self.safety_net: Stage = SafetyNet(load_phrase_lists(s.phrases_path))
        options: dict[str, Any] = {
            "device": device,
            "batch_size": s.batch_size,
            "backend": s.backend,
            "threads": s.threads,
            "tokens": SharedTokens(),  # both stages usually share a vocabulary: tokenise once
        }
        self.crisis_stage: Stage = TransformerStage("crisis", s.crisis_model, **options)
        self.support_stage: Stage = TransformerStage("support", s.support_model, **options)
        self.store = CaseStore(
            s.resolved_database_url(),
            state_dir=s.state_dir,
            hmac_key=s.hmac_key_bytes(),
            timeout_s=s.database_timeout_s,
        )
        self.store.replay_spool()

    @property
    def policy(self) -> Policy:
        """The policy in force."""
        return self.policies.policy

    def route(
        self, message: str, *, conversation_id: str | None = None, tenant: str | None = None
    ) -> Decision:
        """Decide what to do with one message. Never raises on its content.

        ``tenant`` picks that platform's policy (``Settings.tenants``); None: the default.
        """
        check_message(message)
        _check_id(conversation_id, "conversation_id")
        return self.route_many([message], conversation_ids=[conversation_id], tenant=tenant)[0]

    def policy_for(self, tenant: str | None) -> PolicyHolder:
        """The policy holder of a tenant (``ValueError`` naming the known ones if unknown)."""
        if tenant is None:
            return self.policies
        _check_id(tenant, "tenant")
        if tenant not in self.tenant_policies:
            raise ValueError(
                f"unknown tenant {tenant!r}; configured tenants: {sorted(self.tenant_policies)}"
            )
        return self.tenant_policies[tenant]

    def route_many(
        self,
        messages: Sequence[str],
        *,
        conversation_ids: Sequence[str | None] | None = None,
        tenant: str | None = None,
    ) -> list[Decision]:
        """``route`` for a batch: same decisions, far higher throughput."""
        if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
            raise TypeError(
                f"messages must be a list of str, got {type(messages).__name__}; "
                "for one message use route()"
            )
        texts = [check_message(m, f"messages[{i}]") for i, m in enumerate(messages)]
        if conversation_ids is None:
            ids: list[str | None] = [None] * len(texts)
        else:
            ids = [_check_id(c, f"conversation_ids[{i}]") for i, c in enumerate(conversation_ids)]
            if len(ids) != len(texts):
                raise ValueError(f"conversation_ids has {len(ids)} items for {len(texts)} messages")
        holder = self.policy_for(tenant)
        if not texts:
            return []
        policy = holder.policy
        try:
            decisions = self._decide(texts, ids, policy)
        except Exception:  # the last guard: whatever broke, a person looks
            log.exception("routing failed; %d messages sent to humans", len(texts))
            decisions = [
                fail_safe_decision(
                    policy,
                    "internal_error",
                    message_length=len(t),
                    conversation_id=c,
                )
                for t, c in zip(texts, ids, strict=True)
            ]
        decisions = [
            d.model_copy(update={"case_id": str(uuid.uuid4())}) if d.human else d for d in decisions
        ]
        return self._persist(decisions, texts, policy, tenant)

    def _language_guard(self, policy: Policy) -> LanguageGuard:
        spec = policy.language
        key = spec.model_dump_json()
        if key not in self._language_guards:
            self._language_guards[key] = LanguageGuard(
                spec.supported, min_letters=spec.min_letters, max_confidence=spec.max_confidence
            )
        return self._language_guards[key]

    def _with_evidence(self, texts: list[str], crisis: list[StageResult]) -> list[StageResult]:
        """Attach the sentence that drove each stage-one flag (occlusion; flagged texts only)."""
        flagged = [j for j, r in enumerate(crisis) if r.ok and r.label == CRISIS]
        if not flagged or not isinstance(self.crisis_stage, TransformerStage):
            return crisis
        try:
            found = crisis_evidence(self.crisis_stage, [texts[j] for j in flagged])
        except Exception:  # evidence is for people; never let it cost a decision
            log.exception("stage-one evidence failed")
            return crisis
        out = list(crisis)
        for j, evidence in zip(flagged, found, strict=True):
            out[j] = crisis[j].model_copy(update={"evidence": (evidence,)})
        return out

    def _decide(self, texts: list[str], ids: list[str | None], policy: Policy) -> list[Decision]:
        out: list[Decision | None] = [None] * len(texts)
        live = []
        for i, (text, cid) in enumerate(zip(texts, ids, strict=True)):
            if text.strip():
                live.append(i)
            else:
                out[i] = decide_empty(policy, message_length=len(text), conversation_id=cid)
        live_texts = [texts[i] for i in live]
        safety = self._score(self.safety_net, live_texts)
        crisis = self._with_evidence(live_texts, self._score(self.crisis_stage, live_texts))
        language: list[StageResult | None] = [None] * len(live)
        if policy.rules.unverified_language:
            try:
                guard: Stage = self._language_guard(policy)
            except Exception as exc:  # no detector: every message is "unverified", not "safe"
                log.error("language guard unavailable: %s", exc)
                language = [StageResult.failed("language", type(exc).__name__) for _ in live]
            else:
                language = list(self._score(guard, live_texts))
        wanted = [j for j in range(len(live)) if needs_support_stage(policy, safety[j], crisis[j])]
        support: list[StageResult | None] = [None] * len(live)
        for j, result in zip(
            wanted, self._score(self.support_stage, [live_texts[j] for j in wanted]), strict=True
        ):
            support[j] = result
        for j, i in enumerate(live):
            try:
                out[i] = decide(
                    policy,
                    safety=safety[j],
                    crisis=crisis[j],
                    support=support[j],
                    message_length=len(texts[i]),
                    conversation_id=ids[i],
                    language=language[j],
                )
            except Exception:
                log.exception("policy evaluation failed (policy %s)", policy.version)
                out[i] = fail_safe_decision(
                    policy,
                    "policy_error",
                    message_length=len(texts[i]),
                    conversation_id=ids[i],
                )
        return [d for d in out if d is not None]

    def _score(self, stage: Stage, texts: list[str]) -> list[StageResult]:
        """Run a stage; if the batch fails, score texts one by one so only bad ones fail."""
        if not texts:
            return []
        try:
            results = stage.predict(texts)
            if len(results) == len(texts):
                return results
            raise RuntimeError(f"{stage.name} returned {len(results)} results for {len(texts)}")
        except Exception as exc:
            log.error("stage %s failed on a batch of %d: %s", stage.name, len(texts), exc)
            if len(texts) == 1:
                return [StageResult.failed(stage.name, type(exc).__name__)]
        return [self._score(stage, [t])[0] for t in texts]

    def _persist(
        self, decisions: list[Decision], texts: list[str], policy: Policy, tenant: str | None
    ) -> list[Decision]:
        try:
            self.store.record(decisions, texts, policy, tenant=tenant)
            return decisions
        except DatabaseUnavailableError as exc:
            log.error("database unavailable; spooling %d decisions: %s", len(decisions), exc)
        except Exception:  # whatever else failed on the way to the database: spool, never raise
            log.exception("persisting failed; spooling %d decisions", len(decisions))
        decisions = [_database_fail_safe(d, policy) for d in decisions]
        try:
            self.store.spool_batch(decisions, texts, policy, tenant=tenant)
        except Exception:
            log.critical("spool write failed too; %d human decisions not persisted", len(decisions))
            return [
                d.model_copy(
                    update={"case_id": None, "reasons": [*d.reasons, "fail_safe:spool_error"]}
                )
                for d in decisions
            ]
        return decisions


def _database_fail_safe(decision: Decision, policy: Policy) -> Decision:
    """The database failed: every message of the batch goes to a human, and says why."""
    update: dict[str, Any] = {"reasons": ["fail_safe:database_error", *decision.reasons]}
    if not decision.human:
        action = policy.rules.fail_safe
        update |= {
            "action": action,
            "human": True,
            "priority": policy.action(action).priority,
            "case_id": str(uuid.uuid4()),
        }
    return decision.model_copy(update=update)
