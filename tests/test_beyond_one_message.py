"""Beyond one message, on the real path: language guard, evidence, tenants, shadow, resources.

Conversation context has its own module: test_conversation.py.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from sqlmodel import select
from tiny_models import tiny_stage
from typer.testing import CliRunner

from policies.loader import default_policy_file, parse_policy
from review_queue.models import AuditRecord
from stages.errors import PolicyError
from stages.labels import SUPPORT_LABELS
from stages.normalize import normalize
from triage import Triage
from triage.cli import app
from triage.testing import policy_with, write_policy


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
    urgent_alone = write_policy(policy_with(risk={"urgent_at": 0.0}), tmp_path / "p.yaml")
    triage = make_triage(crisis_model=str(always), policy_path=urgent_alone)
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
    return write_policy(policy_with(version=name, **changes), tmp_path / f"{name}.yaml")


def test_two_tenants_decide_differently_on_the_same_message(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    cautious = _policy(tmp_path, "cautious", risk={"review_at": 0.0, "urgent_at": 0.0})
    relaxed = _policy(tmp_path, "relaxed")
    triage = make_triage(tenants={"helpline-a": cautious, "forum-b": relaxed})
    message = "the match last night was fun"
    a = triage.route(message, tenant="helpline-a")
    b = triage.route(message, tenant="forum-b")
    assert a.policy_version == "cautious" and a.action == "urgent_human_review" and a.crisis
    assert b.policy_version == "relaxed" and not b.crisis and b.action != a.action
    with pytest.raises(ValueError, match="unknown tenant 'c'.*forum-b"):
        triage.route(message, tenant="c")
    triage.store.flush()
    with triage.store.session() as s:
        tenants = [json.loads(r.payload)["tenant"] for r in s.exec(select(AuditRecord))]
    assert tenants[-2:] == ["helpline-a", "forum-b"]


# ------------------------------------------------------------------------------ shadow mode
SHADOW_MESSAGES = ["the match last night was fun", "thanks for the help", "what time is it?"]


def _payloads(triage: Triage) -> list[dict[str, object]]:
    triage.store.flush()
    with triage.store.session() as s:
        records = s.exec(select(AuditRecord).where(AuditRecord.event == "decision"))
        return [json.loads(r.payload) for r in records]


def test_shadow_candidate_is_recorded_beside_the_live_decision_and_never_acted_on(
    make_triage: Callable[..., Triage],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = make_triage(state_dir=tmp_path / "plain").route_many(SHADOW_MESSAGES)
    shadow = {"name": "flag-everything", "risk": {"review_at": 0.0, "urgent_at": 0.0}}
    triage = make_triage(policy_path=_policy(tmp_path, "with-shadow", shadow=shadow))
    live = triage.route_many(SHADOW_MESSAGES)
    assert [d.action for d in live] == [d.action for d in plain]  # the candidate changes nothing
    assert not any(d.crisis for d in live)
    recorded = [p["shadow"] for p in _payloads(triage)]
    assert all(isinstance(s, dict) and s["name"] == "flag-everything" for s in recorded)
    assert all(s["action"] == "urgent_human_review" and s["crisis"] for s in recorded)  # type: ignore[index]

    monkeypatch.setenv("TRIAGE_STATE_DIR", str(triage.settings.state_dir))
    out = tmp_path / "reports" / "shadow"
    result = CliRunner().invoke(app, ["shadow-report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["candidate"] == "flag-everything" and report["messages"] == 3
    assert report["candidate_human"] == 3 and report["live_human"] == sum(d.human for d in live)
    assert report["candidate_crisis"] == 3 and report["live_crisis"] == 0
    changed = [d for d in live if d.action != "urgent_human_review"]
    assert len(report["examples"]) == len(changed) > 0
    assert report["examples"][0]["candidate"]["action"] == "urgent_human_review"
    assert "Shadow report: candidate `flag-everything`" in out.with_suffix(".md").read_text()


def test_shadow_candidate_model_runs_and_a_broken_one_leaves_live_decisions_alone(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    candidate = tiny_stage(tmp_path / "candidate", "crisis", thresholds={"crisis": 0.0})
    shadow = {"name": "new-model", "crisis_model": str(candidate)}
    triage = make_triage(policy_path=_policy(tmp_path, "model-shadow", shadow=shadow))
    triage.route("the match last night was fun")
    (payload,) = _payloads(triage)
    assert payload["shadow"]["crisis"] and not payload["crisis"]  # type: ignore[index]

    broken = {"name": "missing", "crisis_model": str(tmp_path / "no-such-model")}
    triage = make_triage(
        policy_path=_policy(tmp_path, "broken-shadow", shadow=broken),
        state_dir=tmp_path / "broken",
    )
    d = triage.route("the match last night was fun")
    assert not any(r.startswith("fail_safe") for r in d.reasons)
    (payload,) = _payloads(triage)
    assert "shadow" not in payload


# ------------------------------------------------------------------- resources in replies
def test_automatic_replies_carry_the_resource_text_for_the_users_region(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    triage = make_triage()
    crisis = triage.route("i want to kill myself", region="GB")
    assert crisis.action == "urgent_human_review" and crisis.region == "GB"
    (line,) = crisis.resources
    assert line.key == "crisis_line" and line.region == "GB" and "116 123" in line.text
    elsewhere = triage.route("i want to kill myself", region="FR")
    assert (
        elsewhere.resources[0].region == "default"
        and "findahelpline" in elsewhere.resources[0].text
    )
    assert triage.route("i want to kill myself").resources[0].region == "default"

    all_auto = {
        "unverified_language": None,
        "support": dict.fromkeys(SUPPORT_LABELS, "auto_support"),
    }
    auto = make_triage(
        policy_path=_policy(tmp_path, "all-auto", rules=all_auto), state_dir=tmp_path / "auto"
    ).route("thanks, that recipe worked great", region="US")
    assert not auto.human and auto.action == "auto_support"
    assert [r.key for r in auto.resources] == ["support_line"]


def test_a_database_failure_still_gives_the_crisis_line(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    db_dir = tmp_path / "db"
    # Every audit record committed before route() returns: the outage meets this message.
    triage = make_triage(database_url=f"sqlite:///{db_dir / 'cases.db'}", audit_group_size=1)
    shutil.rmtree(db_dir)  # the volume is gone
    d = triage.route("the match last night was fun", region="US")
    assert "fail_safe:database_error" in d.reasons and d.action == "urgent_human_review"
    assert [r.key for r in d.resources] == ["crisis_line"] and "988" in d.resources[0].text


@pytest.mark.parametrize(
    "rule", ["urgent", "fail_safe", "review", "someone_else", "crisis_support"]
)
def test_crisis_and_distress_can_never_be_answered_as_a_content_violation(rule: str) -> None:
    data = yaml.safe_load(default_policy_file().read_text())
    data["actions"]["remove_post"] = {"human": rule != "crisis_support", "content_violation": True}
    if rule == "crisis_support":
        data["rules"]["support"]["crisis_support"] = "remove_post"
    else:
        data["rules"][rule] = "remove_post"
    with pytest.raises(PolicyError, match="content_violation action; crisis and distress"):
        parse_policy(yaml.safe_dump(data))
    data["rules"] = yaml.safe_load(default_policy_file().read_text())["rules"]
    data["rules"]["support"]["neutral"] = "remove_post"  # moderation of neutral posts is allowed
    assert parse_policy(yaml.safe_dump(data)).rules.support["neutral"] == "remove_post"


def test_resources_must_have_a_default_text_and_exist() -> None:
    data = yaml.safe_load(default_policy_file().read_text())
    data["resources"]["crisis_line"].pop("default")
    with pytest.raises(PolicyError, match="resources.crisis_line: needs a 'default' text"):
        parse_policy(yaml.safe_dump(data))
    data = yaml.safe_load(default_policy_file().read_text())
    data["actions"]["auto_support"]["resources"] = ["hotline"]
    with pytest.raises(PolicyError, match="actions.auto_support.resources: unknown"):
        parse_policy(yaml.safe_dump(data))
