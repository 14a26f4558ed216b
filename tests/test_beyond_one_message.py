"""Issue 8 features on the real path: language guard, evidence spans, per-tenant policies."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from sqlmodel import select
from tiny_models import tiny_stage

from policies.loader import default_policy_file
from review_queue.models import AuditRecord
from stages.normalize import normalize
from triage import Triage


def test_non_english_message_goes_to_review_as_unverified_language(triage: Triage) -> None:
    spanish, english = triage.route_many(
        [
            "ya no quiero vivir, nadie me entiende",
            "thanks so much for the help earlier today",
        ]
    )
    assert spanish.human and spanish.action == "human_review"
    assert "unverified_language:es" in spanish.reasons and spanish.case_id is not None
    assert not any(r.startswith("unverified_language") for r in english.reasons)
    # Chinese, three characters: judged by script however short.
    assert "unverified_language:zh" in triage.route("我想死").reasons


def test_explicit_crisis_in_any_language_keeps_urgent_priority(triage: Triage) -> None:
    d = triage.route("i want to kill myself. nadie me quiere")
    assert d.action == "urgent_human_review" and "safety_net:self_harm_intent" in d.reasons


def test_evidence_for_a_safety_net_hit_points_at_the_phrase(triage: Triage) -> None:
    text = "Work was long today. I want to kill myself. Anyway, see you."
    d = triage.route(text)
    (net,) = [e for e in d.evidence if e.category == "self_harm_intent"]
    assert normalize(text)[net.start : net.end] == "kill myself"  # spans index the normalised text


def test_evidence_for_a_model_hit_is_the_sentence_that_scores_highest(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    always = tiny_stage(tmp_path / "always", "crisis", thresholds={"crisis": 0.0})
    triage = make_triage(crisis_model=str(always))
    text = "The bus was late again. My cat sleeps all day."
    d = triage.route(text)
    assert d.crisis and any(r.startswith("stage_one:") for r in d.reasons)
    (model,) = [e for e in d.evidence if e.category == "model"]
    assert text[model.start : model.end] == model.phrase
    assert model.phrase in ("The bus was late again.", "My cat sleeps all day.")
    with triage.store.session() as s:  # and the audit record carries it
        record = s.exec(select(AuditRecord).where(AuditRecord.case_id == d.case_id)).one()
    assert json.loads(record.payload)["evidence"][0]["category"] == "model"


def _policy(tmp_path: Path, name: str, **changes: object) -> Path:
    data = yaml.safe_load(default_policy_file().read_text())
    data["version"] = name
    for key, value in changes.items():
        data[key] = value
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_two_tenants_decide_differently_on_the_same_message(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    cautious = _policy(tmp_path, "cautious", thresholds={"crisis": 0.0, "support": {}})
    relaxed = _policy(tmp_path, "relaxed")
    triage = make_triage(tenants={"helpline-a": cautious, "forum-b": relaxed})
    message = "the match last night was fun"
    a = triage.route(message, tenant="helpline-a")
    b = triage.route(message, tenant="forum-b")
    assert a.policy_version == "cautious" and a.action == "urgent_human_review" and a.crisis
    assert b.policy_version == "relaxed" and not b.crisis and b.action != a.action
    with pytest.raises(ValueError, match="unknown tenant 'c'.*forum-b"):
        triage.route(message, tenant="c")
    with triage.store.session() as s:
        tenants = [json.loads(r.payload)["tenant"] for r in s.exec(select(AuditRecord))]
    assert tenants[-2:] == ["helpline-a", "forum-b"]
