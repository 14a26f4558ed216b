"""``Triage``: the one call a chat platform makes for every incoming message."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

import torch

from policies.context import ContextSignal
from policies.decision import Decision
from policies.engine import (
    decide,
    decide_empty,
    fail_safe_decision,
    needs_support_stage,
    with_resources,
)
from policies.holder import PolicyHolder
from policies.loader import default_policy_file
from policies.schema import Policy
from review_queue.store import CaseStore
from stages.attribution import with_evidence
from stages.frames import FrameReader
from stages.language_guard import LanguageGuard
from stages.protocol import SentenceScorer, Stage
from stages.results import StageResult
from stages.safety_net import SafetyNet, load_phrase_lists
from triage.conversation import TurnMemory, conversation_turns
from triage.inputs import PlatformRefs, check_id, check_ids, check_message, check_metadata
from triage.model_stages import ModelStages
from triage.persist import persist
from triage.settings import Settings, settings_from

log = logging.getLogger("triage")


@dataclass(frozen=True)
class BatchResults:
    """Every stage's result for each message of a batch (non-empty messages only)."""

    safety: list[StageResult]
    crisis: list[StageResult]
    support: list[StageResult | None]
    language: list[StageResult | None]
    context: list[ContextSignal | None]


class Triage:
    """Route messages: safety net + stage one + stage two -> policy -> human queue.

    ``Triage()`` uses the embedded defaults (local models in ``models/``, the shipped policy,
    SQLite in ``.triage/``); keyword arguments override any ``Settings`` field. Any part may be
    passed in instead (``safety_net``, ``crisis``, ``support``: anything with the ``Stage``
    protocol; ``policy``: a parsed policy, never reloaded; ``store``: a ``CaseStore``;
    ``conversations``: where turns are kept); only the parts not given are built from the
    settings.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        safety_net: Stage | None = None,
        crisis: Stage | None = None,
        support: Stage | None = None,
        policy: Policy | None = None,
        store: CaseStore | None = None,
        conversations: TurnMemory | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = settings or settings_from(overrides)
        s = self.settings
        if s.threads:
            torch.set_num_threads(s.threads)
        self.policies = (
            PolicyHolder.fixed(policy)
            if policy is not None
            else PolicyHolder(s.policy_path or default_policy_file())
        )
        # One process, several platforms: each tenant routes under its own policy file.
        self.tenant_policies = {name: PolicyHolder(path) for name, path in s.tenants.items()}
        self._language_guards: dict[str, LanguageGuard] = {}
        if self.policy.rules.unverified_language:  # load its models now, not on a first message
            self._language_guard(self.policy)
        self.frames = FrameReader()
        self.safety_net: Stage = safety_net or SafetyNet(
            load_phrase_lists(s.phrases_path), frames=self.frames
        )
        if crisis is None or support is None:
            self.models = ModelStages.from_settings(s)
            crisis = crisis or self.models.crisis(s.crisis_model)
            support = support or self.models.support(s.support_model, crisis)
        else:
            self.models = ModelStages()
        self.crisis_stage: Stage = crisis
        self.support_stage: Stage = support
        self.conversations: TurnMemory = conversations or s.conversation_memory()
        self.store = store or s.case_store()
        self.store.replay_spool()

    @property
    def policy(self) -> Policy:
        """The policy in force."""
        return self.policies.policy

    @property
    def stages_side_by_side(self) -> bool:
        """Whether stage two runs beside stage one (its own model, on ONNX, two cores)."""
        return self.models.beside is not None

    def route(
        self,
        message: str,
        *,
        conversation_id: str | None = None,
        tenant: str | None = None,
        region: str | None = None,
        message_id: str | None = None,
        user_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Decision:
        """Decide what to do with one message. Never raises on its content.

        ``conversation_id`` lets the recent turns of the conversation count (rising risk);
        ``tenant`` picks that platform's policy (``Settings.tenants``; None: the default);
        ``region`` (e.g. "GB") picks the resource texts attached to the reply;
        ``message_id``, ``user_id`` (the platform's ids of the message and its writer) and
        ``metadata`` (up to 16 short string pairs) are kept on the decision, its case and its
        audit record, so a counselor or a correction can be linked back to the platform.
        """
        check_message(message)
        check_id(conversation_id, "conversation_id")
        check_id(region, "region")
        check_id(message_id, "message_id")
        check_id(user_id, "user_id")
        check_metadata(metadata)
        return self.route_many(
            [message],
            conversation_ids=[conversation_id],
            tenant=tenant,
            regions=[region],
            message_ids=[message_id],
            user_ids=[user_id],
            metadata=[metadata],
        )[0]

    def close(self) -> None:
        """Commit the audit records of decisions still grouped in memory (also done at exit)."""
        self.store.close()

    def policy_for(self, tenant: str | None) -> PolicyHolder:
        """The policy holder of a tenant (``ValueError`` naming the known ones if unknown)."""
        if tenant is None:
            return self.policies
        check_id(tenant, "tenant")
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
        regions: Sequence[str | None] | None = None,
        message_ids: Sequence[str | None] | None = None,
        user_ids: Sequence[str | None] | None = None,
        metadata: Sequence[Mapping[str, str] | None] | None = None,
        dry_run: bool = False,
    ) -> list[Decision]:
        """``route`` for a batch: same decisions, far higher throughput.

        Messages of one conversation are taken in the order given. ``dry_run``: decide only,
        as for an archive; no case is opened and nothing is stored (no case ids).
        """
        if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
            raise TypeError(
                f"messages must be a list of str, got {type(messages).__name__}; "
                "for one message use route()"
            )
        texts = [check_message(m, f"messages[{i}]") for i, m in enumerate(messages)]
        ids = check_ids(conversation_ids, "conversation_ids", len(texts))
        where = check_ids(regions, "regions", len(texts))
        platform = PlatformRefs.checked(message_ids, user_ids, metadata, len(texts))
        holder = self.policy_for(tenant)
        if not texts:
            return []
        policy = holder.policy
        shadows: list[Decision | None] = [None] * len(texts)
        try:
            decisions, shadows = self._decide(texts, ids, policy, tenant)
        except Exception:  # the last guard: whatever broke, a person looks
            log.exception("routing failed; %d messages sent to humans", len(texts))
            decisions = [
                fail_safe_decision(
                    policy, "internal_error", message_length=len(t), conversation_id=c
                )
                for t, c in zip(texts, ids, strict=True)
            ]
        decisions = [
            with_resources(policy, platform.identify(j, d, open_case=not dry_run), r)
            for j, (d, r) in enumerate(zip(decisions, where, strict=True))
        ]
        if dry_run:
            return decisions
        return persist(self.store, decisions, texts, policy, tenant, shadows)

    def stage_results(self, texts: Sequence[str]) -> BatchResults:
        """Every stage's result for non-empty texts under the policy in force, stage two too.

        What ``policies.load`` applies policies to; nothing is stored.
        """
        texts = [check_message(t, f"texts[{i}]") for i, t in enumerate(texts)]
        if any(not t.strip() for t in texts):
            raise ValueError("stage_results scores non-empty texts only")
        policy = self.policy.model_copy(update={"support_stage": "always"})
        return self._stage_results(policy, texts)

    def _language_guard(self, policy: Policy) -> LanguageGuard:
        spec = policy.language
        key = spec.model_dump_json()
        if key not in self._language_guards:
            self._language_guards[key] = LanguageGuard(
                spec.supported, min_letters=spec.min_letters, max_confidence=spec.max_confidence
            )
        return self._language_guards[key]

    def _with_evidence(self, texts: list[str], crisis: list[StageResult]) -> list[StageResult]:
        """Attach the sentence that drove each stage-one flag, with its frame (flagged only)."""
        if not isinstance(self.crisis_stage, SentenceScorer):
            return crisis
        try:
            return with_evidence(self.crisis_stage, self.frames, texts, crisis)
        except Exception:  # evidence is for people; never let it cost a decision
            log.exception("stage-one evidence failed")
            return crisis

    def _decide(
        self, texts: list[str], ids: list[str | None], policy: Policy, tenant: str | None
    ) -> tuple[list[Decision], list[Decision | None]]:
        """Live decisions, and the shadow candidate's (None where there is none)."""
        out: list[Decision | None] = [None] * len(texts)
        live = []
        for i, (text, cid) in enumerate(zip(texts, ids, strict=True)):
            if text.strip():
                live.append(i)
            else:
                out[i] = decide_empty(policy, message_length=len(text), conversation_id=cid)
        live_texts = [texts[i] for i in live]
        live_ids = [ids[i] for i in live]
        scored = self._stage_results(policy, live_texts)
        talk = conversation_turns(
            self.conversations,
            policy,
            tenant,
            live_texts,
            live_ids,
            scored.safety,
            scored.crisis,
            lambda texts: self._score(self.crisis_stage, texts),
        )
        scored = replace(scored, context=talk.signals)
        for j, decision in enumerate(self._apply(policy, scored, live_texts, live_ids)):
            if talk.turns[j] is not None:  # only conversations have turns: no copy on the hot path
                decision = decision.model_copy(update={"turn": talk.turns[j]})
            elif talk.notes[j] is not None:  # judged alone: the memory could not be reached
                decision = decision.model_copy(
                    update={"reasons": [*decision.reasons, talk.notes[j]]}
                )
            out[live[j]] = decision
        shadows: list[Decision | None] = [None] * len(texts)
        if policy.shadow is not None:
            try:  # the candidate is only watched: nothing it does may touch a live decision
                candidate, candidate_scored = self._candidate(policy, scored, live_texts)
                for j, decision in enumerate(
                    self._apply(candidate, candidate_scored, live_texts, live_ids)
                ):
                    shadows[live[j]] = decision
            except Exception:
                log.exception(
                    "shadow candidate %r failed; live decisions stand", policy.shadow.name
                )
        return [d for d in out if d is not None], shadows

    def _stage_results(self, policy: Policy, texts: list[str]) -> BatchResults:
        safety = self._score(self.safety_net, texts)
        # Beside stage one, stage two scores every text; only the texts the policy needs
        # it for take its result, so decisions are those of the stages run in turn.
        beside = self.models.beside
        stage_two = beside.submit(self._score, self.support_stage, texts) if beside else None
        crisis = self._with_evidence(texts, self._score(self.crisis_stage, texts))
        language: list[StageResult | None] = [None] * len(texts)
        if policy.rules.unverified_language:
            try:
                guard: Stage = self._language_guard(policy)
            except Exception as exc:  # no detector: every message is "unverified", not "safe"
                log.error("language guard unavailable: %s", exc)
                language = [StageResult.failed("language", type(exc).__name__) for _ in texts]
            else:
                language = list(self._score(guard, texts))
        support = self._support(
            policy, self.support_stage, texts, safety, crisis, scoring=stage_two
        )
        return BatchResults(safety, crisis, support, language, [None] * len(texts))

    def _support(
        self,
        policy: Policy,
        stage: Stage,
        texts: list[str],
        safety: list[StageResult],
        crisis: list[StageResult],
        known: Sequence[StageResult | None] | None = None,
        scoring: Future[list[StageResult]] | None = None,
    ) -> list[StageResult | None]:
        """Stage two where the policy needs it and ``known`` has no result yet.

        ``scoring``: stage two's results for every text, already under way beside stage one.
        """
        support: list[StageResult | None] = (
            list(known) if known is not None else [None] * len(texts)
        )
        wanted = [
            j
            for j in range(len(texts))
            if support[j] is None and needs_support_stage(policy, safety[j], crisis[j])
        ]
        if scoring is not None:
            everything = scoring.result()
            results = [everything[j] for j in wanted]
        else:
            results = self._score(stage, [texts[j] for j in wanted])
        for j, result in zip(wanted, results, strict=True):
            support[j] = result
        return support

    def _apply(
        self, policy: Policy, scored: BatchResults, texts: list[str], ids: list[str | None]
    ) -> list[Decision]:
        out = []
        for j, text in enumerate(texts):
            try:
                decision = decide(
                    policy,
                    safety=scored.safety[j],
                    crisis=scored.crisis[j],
                    support=scored.support[j],
                    message_length=len(text),
                    conversation_id=ids[j],
                    language=scored.language[j],
                    context=scored.context[j],
                )
            except Exception:
                log.exception("policy evaluation failed (policy %s)", policy.version)
                decision = fail_safe_decision(
                    policy, "policy_error", message_length=len(text), conversation_id=ids[j]
                )
            out.append(decision)
        return out

    def _candidate(
        self, policy: Policy, live: BatchResults, texts: list[str]
    ) -> tuple[Policy, BatchResults]:
        """The shadow candidate's policy and stage results (live results where it shares them)."""
        spec = policy.shadow
        assert spec is not None
        candidate = policy.model_copy(update={"risk": spec.risk or policy.risk, "shadow": None})
        crisis = live.crisis
        if spec.crisis_model:
            candidate_crisis = self.models.candidate("crisis", spec.crisis_model, self.crisis_stage)
            crisis = self._score(candidate_crisis, texts)
        stage: Stage = self.support_stage
        known: list[StageResult | None] | None = live.support
        if spec.support_model:
            stage = self.models.candidate("support", spec.support_model, self.crisis_stage)
            known = None
        support = self._support(candidate, stage, texts, live.safety, crisis, known)
        return candidate, replace(live, crisis=crisis, support=support)

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
