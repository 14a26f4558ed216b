"""Policy files validate at load with errors naming field and line; edits reload safely."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from policies.engine import decide
from policies.holder import PolicyHolder
from policies.loader import default_policy_file, load_policy, parse_policy
from stages.errors import PolicyError
from stages.results import Evidence, StageResult

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
        (("priority: 2", "priority: two"), "actions.human_review.priority", True),
        (("  crisis: urgent_human_review", "  crisis: urgent_revew"), "rules.crisis", True),
        (("  crisis: urgent_human_review", "  crisis: auto_support"), "rules.crisis", True),
        (("neutral: log_only", "neutrall: log_only"), "rules.support", False),
        (("store_raw_text: false", "store_raw_txt: false"), "privacy.store_raw_txt", True),
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


def test_when_safety_net_fires_then_crisis_action_whatever_the_models_say() -> None:
    policy = load_policy()
    d = decide(
        policy,
        safety=FIRED,
        crisis=_crisis(0.01),
        support=_support("neutral", 0.99),
        message_length=10,
    )
    assert d.action == "urgent_human_review" and d.human and d.crisis
    assert d.reasons[0] == "safety_net:means"
    assert d.evidence == FIRED.evidence


def test_when_stage_one_passes_threshold_then_urgent_review_with_reason() -> None:
    d = decide(
        load_policy(),
        safety=QUIET,
        crisis=_crisis(0.91, 0.23),
        support=_support("neutral", 0.9),
        message_length=5,
    )
    assert d.action == "urgent_human_review"
    assert "stage_one:0.91>=0.23" in d.reasons


def test_when_low_confidence_then_human_review() -> None:
    d = decide(
        load_policy(),
        safety=QUIET,
        crisis=_crisis(0.1),
        support=_support("positive_support", 0.25, threshold=0.4),
        message_length=5,
    )
    assert d.action == "human_review" and d.priority == 2
    assert d.reasons == ["low_confidence:positive_support:0.25"]


def test_when_confident_then_support_action() -> None:
    d = decide(
        load_policy(),
        safety=QUIET,
        crisis=_crisis(0.1),
        support=_support("information_needed", 0.8),
        message_length=5,
    )
    assert (d.action, d.human, d.case_id) == ("auto_support", False, None)


def test_policy_threshold_overrides_the_models() -> None:
    strict = parse_policy(DEFAULT.replace("crisis: null", "crisis: 0.05"))
    d = decide(
        strict,
        safety=QUIET,
        crisis=_crisis(0.1, 0.5),
        support=_support("neutral", 0.9),
        message_length=5,
    )
    assert d.crisis and d.action == "urgent_human_review"


def test_when_policy_file_changes_then_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT)
    holder = PolicyHolder(path, check_every_s=0)
    path.write_text(DEFAULT.replace('version: "default-2026.11.2"', 'version: "v2"'))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert holder.policy.version == "v2"


def test_when_edit_invalid_then_last_good_policy_stays(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT)
    holder = PolicyHolder(path, check_every_s=0)
    path.write_text(DEFAULT.replace("crisis: urgent_human_review", "crisis: log_only"))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert holder.policy.version == "default-2026.11.2"
    assert holder.last_error is not None and "rules.crisis" in holder.last_error
