"""Policy files validate at load with errors naming field and line; edits reload safely."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
import yaml

from policies.decision import Decision
from policies.engine import decide
from policies.holder import PolicyHolder
from policies.loader import default_policy_file, load_policy, parse_policy
from policies.schema import Policy
from stages.errors import PolicyError
from stages.frames import Frame
from stages.results import Evidence, StageResult
from triage.testing import policy_with

DEFAULT = default_policy_file().read_text()


def _support(label: str, p: float, threshold: float = 0.3) -> StageResult:
    rest = (1 - p) / 4
    labels = [
        "crisis_support",
        "emotional_support",
        "positive_support",
        "information_needed",
        "neutral",
    ]
    scores = {name: (p if name == label else rest) for name in labels}
    return StageResult(
        stage="support", label=label, scores=scores, threshold=threshold, confident=p >= threshold
    )


def _crisis(p: float, threshold: float = 0.5) -> StageResult:
    return StageResult(
        stage="crisis",
        label="crisis" if p >= threshold else "not_crisis",
        scores={"crisis": p},
        threshold=threshold,
    )


QUIET = StageResult(stage="safety_net", label="not_crisis", scores={"crisis": 0.0})
FIRED = StageResult(
    stage="safety_net",
    label="crisis",
    scores={"crisis": 1.0},
    evidence=(Evidence(category="means", phrase="a noose", start=0, end=7),),
)


def test_default_policy_loads_and_has_a_version() -> None:
    policy = load_policy()
    assert policy.version
    assert policy.privacy.store_raw_text is False


@pytest.mark.parametrize(
    ("edit", "field", "names_line"),
    [
        (("priority: 3", "priority: three"), "actions.human_review.priority", True),
        (("  urgent: urgent_human_review", "  urgent: urgent_revew"), "rules.urgent", True),
        (("  urgent: urgent_human_review", "  urgent: auto_support"), "rules.urgent", True),
        (("  review: human_review", "  review: auto_support"), "rules.review", True),
        (("neutral: log_only", "neutrall: log_only"), "rules.support", False),
        (("store_raw_text: false", "store_raw_txt: false"), "privacy.store_raw_txt", True),
        (("urgent_at: 0.9", "urgent_at: 1.5"), "risk.urgent_at", True),
    ],
)
def test_when_policy_invalid_then_error_names_field_and_line(
    edit: tuple[str, str], field: str, names_line: bool
) -> None:
    text = DEFAULT.replace(*edit, 1)
    assert text != DEFAULT
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "leads.yaml")
    message = str(info.value)
    assert field in message
    if names_line:  # the line of the edited text
        line = next(i for i, row in enumerate(text.splitlines(), 1) if edit[1] in row)
        assert f"line {line}," in message


def test_when_not_yaml_then_policy_error() -> None:
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy("version: [unclosed", "bad.yaml")


def _decide(
    safety: StageResult = QUIET, risk: float = 0.01, policy: Policy | None = None, **more: object
) -> Decision:
    return decide(
        policy or load_policy(),
        safety=safety,
        crisis=more.pop("crisis", None) or _crisis(risk, 0.2),  # type: ignore[arg-type]
        support=more.pop("support", None) or _support("neutral", 0.9),  # type: ignore[arg-type]
        message_length=10,
        **more,  # type: ignore[arg-type]
    )


def test_when_safety_net_fires_then_urgent_whatever_the_models_say() -> None:
    d = _decide(FIRED, 0.01)
    assert d.action == "urgent_human_review" and d.human and d.crisis and d.tier == "urgent"
    assert d.reasons[0] == "safety_net:means" and d.priority == 0
    assert d.evidence == FIRED.evidence


@pytest.mark.parametrize(
    ("risk", "tier", "action", "reason"),
    [
        (0.95, "urgent", "urgent_human_review", "stage_one:0.95>=0.90"),
        (0.5, "review", "human_review", "low_confidence:risk:0.50"),
        (0.19, "none", "log_only", "support:neutral"),
    ],
)
def test_stage_one_risk_sets_the_tier_both_ways(
    risk: float, tier: str, action: str, reason: str
) -> None:
    d = _decide(risk=risk)
    assert (d.tier, d.action, d.human) == (tier, action, tier != "none")
    assert reason in d.reasons


def test_a_lead_moves_the_bands_and_the_same_risk_changes_tier() -> None:
    lenient = policy_with(risk={"review_at": 0.6, "urgent_at": 0.99})
    strict = policy_with(risk={"review_at": 0.05, "urgent_at": 0.4})
    assert _decide(risk=0.5, policy=lenient).tier == "none"
    assert _decide(risk=0.5, policy=strict).tier == "urgent"
    assert _decide(risk=0.1, policy=strict).tier == "review"


def test_within_a_tier_higher_risk_comes_first_in_the_queue() -> None:
    policy = load_policy()  # review band [0.2, 0.9): upper half from 0.55
    upper, lower = _decide(risk=0.8), _decide(risk=0.3)
    assert upper.tier == lower.tier == "review"
    assert upper.priority == policy.actions["human_review"].priority
    assert lower.priority == upper.priority + 1  # type: ignore[operator]
    assert _decide(risk=0.99).priority == 0 and _decide(risk=0.92).priority == 1
    assert _decide(FIRED).priority == 0  # explicit crisis language: top of the queue


def test_stage_two_uncertainty_alone_never_opens_a_case() -> None:
    for label in ("crisis_support", "positive_support", "neutral"):
        d = _decide(risk=0.05, support=_support(label, 0.21, threshold=0.6))
        assert not d.human and d.case_id is None and d.tier == "none", d
        assert not any(r.startswith("low_confidence") for r in d.reasons)
    emotion = _decide(risk=0.05, support=_support("crisis_support", 0.95))
    assert emotion.action == "auto_support" and [r for r in emotion.reasons] == [
        "support:crisis_support"
    ]


def test_when_confident_then_support_action() -> None:
    d = _decide(risk=0.1, support=_support("information_needed", 0.8))
    assert (d.action, d.human, d.case_id) == ("auto_support", False, None)


def _net(phrase: str, category: str, frame: Frame) -> StageResult:
    evidence = Evidence(category=category, phrase=phrase, start=0, end=5, frame=frame)
    return FIRED.model_copy(update={"evidence": (evidence,)})


NOW = Frame(who="writer", when="now", act="telling")
PAST = Frame(who="writer", when="past", act="telling")
TOPIC = Frame(who="unspecified", when="now", act="topic")
FRIEND = Frame(who="someone_else", when="now", act="telling")


@pytest.mark.parametrize(
    ("frame", "tier", "action"),
    [
        (NOW, "urgent", "urgent_human_review"),
        (PAST, "review", "human_review"),
        (TOPIC, "review", "human_review"),
        (Frame(who="writer", when="now", act="telling", negated=True), "review", "human_review"),
        (FRIEND, "review", "guidance"),
    ],
)
def test_a_frame_lowers_urgency_and_never_loses_the_writer(
    frame: Frame, tier: str, action: str
) -> None:
    d = _decide(_net("want to die", "self_harm_intent", frame))
    assert (d.tier, d.action) == (tier, action)
    assert d.crisis  # the net matched: counselors and reports still see it
    assert d.human  # every crisis match reaches a person in the shipped policy
    if frame is not NOW:
        assert f"frame:self_harm_intent:{frame.describe()}" in d.reasons


def test_someone_elses_risk_goes_to_guidance_only_when_net_and_model_agree() -> None:
    sentence = Evidence(category="model", phrase="s", start=0, end=1, frame=FRIEND)
    crisis = _crisis(0.97, 0.2).model_copy(update={"evidence": (sentence,)})
    both = _decide(_net("she wants to die", "someone_else_at_risk", FRIEND), crisis=crisis)
    assert (both.tier, both.action, both.human) == ("review", "guidance", True)
    assert both.priority is not None and both.priority > 4  # behind the writers' own risk
    writer_too = _decide(_net("want to die", "self_harm_intent", NOW), crisis=crisis)
    assert writer_too.tier == "urgent"


def test_first_person_now_stays_urgent_whatever_else_the_message_holds() -> None:
    both = FIRED.model_copy(
        update={
            "evidence": (
                Evidence(category="x", phrase="p", start=0, end=1, frame=FRIEND),
                Evidence(category="y", phrase="q", start=2, end=3, frame=PAST),
                Evidence(category="z", phrase="r", start=4, end=5, frame=NOW),
            )
        }
    )
    assert _decide(both).tier == "urgent"
    frames_off = policy_with(risk={"frames": False})
    assert _decide(_net("x", "y", FRIEND), policy=frames_off).tier == "urgent"


@pytest.mark.parametrize(
    ("frame", "risk", "tier", "action", "frame_changed_it"),
    [
        (NOW, 0.97, "urgent", "urgent_human_review", False),
        (PAST, 0.97, "review", "human_review", True),  # lowers the urgent band to review
        (NOW, 0.5, "review", "human_review", False),
        (PAST, 0.5, "review", "human_review", False),  # the uncertain band stays with a person
        (FRIEND, 0.97, "review", "human_review", True),  # the sentence is about someone else
        (FRIEND, 0.5, "review", "human_review", True),
    ],
)
def test_the_frame_of_stage_ones_sentence_sets_its_tier(
    frame: Frame, risk: float, tier: str, action: str, frame_changed_it: bool
) -> None:
    sentence = Evidence(category="model", phrase="s", start=0, end=1, frame=frame)
    crisis = _crisis(risk, 0.2).model_copy(update={"evidence": (sentence,)})
    d = _decide(crisis=crisis)
    assert (d.tier, d.action) == (tier, action)
    assert d.crisis  # stage one's risk reached review: counselors' reports still count it
    assert (f"frame:stage_one:{frame.describe()}" in d.reasons) == frame_changed_it


def test_an_old_policy_migrates_with_a_notice_per_change(caplog: pytest.LogCaptureFixture) -> None:
    old = yaml.safe_load(DEFAULT)
    old.pop("schema_version")
    old.pop("risk")
    old["rules"]["crisis"] = old["rules"].pop("urgent")
    old["rules"]["low_confidence"] = old["rules"].pop("review")
    old["rules"]["support"]["crisis_support"] = "human_review"
    old["thresholds"] = {"crisis": 0.3, "support": {"neutral": 0.5}}
    old["shadow"] = {"name": "c", "thresholds": {"crisis": 0.1}}
    with caplog.at_level(logging.WARNING):
        policy = parse_policy(yaml.safe_dump(old), "old.yaml")
    assert policy.rules.urgent == "urgent_human_review" and policy.rules.review == "human_review"
    assert policy.risk.review_at == 0.3 and policy.shadow and policy.shadow.risk
    assert policy.shadow.risk.review_at == 0.1
    notices = " ".join(r.getMessage() for r in caplog.records)
    for said in (
        "rules.crisis is now rules.urgent",
        "thresholds.support was dropped",
        "rules.support.crisis_support",
        "shadow.thresholds is now shadow.risk",
    ):
        assert said in notices


def test_an_old_policy_that_cannot_migrate_is_refused_saying_what_to_change() -> None:
    old = yaml.safe_load(DEFAULT)
    old.pop("schema_version")
    old.pop("risk")
    old["rules"].pop("review")
    old["rules"]["crisis"] = old["rules"].pop("urgent")
    old["rules"]["low_confidence"] = "auto_support"  # a person must review uncertain risk now
    with pytest.raises(PolicyError, match="rules.review: must be an action with human: true"):
        parse_policy(yaml.safe_dump(old), "old.yaml")
    newer = DEFAULT.replace("schema_version: 2", "schema_version: 3")
    with pytest.raises(PolicyError, match="schema_version"):
        parse_policy(newer)


def test_when_policy_file_changes_then_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT)
    holder = PolicyHolder(path, check_every_s=0)
    version = holder.policy.version
    path.write_text(DEFAULT.replace(f'version: "{version}"', 'version: "v2"'))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert holder.policy.version == "v2"


def test_when_edit_invalid_then_last_good_policy_stays(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT)
    holder = PolicyHolder(path, check_every_s=0)
    version = holder.policy.version
    path.write_text(DEFAULT.replace("urgent: urgent_human_review", "urgent: log_only"))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert holder.policy.version == version
    assert holder.last_error is not None and "rules.urgent" in holder.last_error
