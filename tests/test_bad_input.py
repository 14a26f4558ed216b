"""Bad input gets a clear answer, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage import Triage
from triage.testing import policy_with


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (b"i want to die", "bytes: decode it first"),
        (bytearray(b"x"), "bytearray: decode it first"),
        (None, "got NoneType"),
        (42, "got int"),
        (["a list"], "got list"),
    ],
)
def test_when_not_str_then_type_error_names_the_type(triage: Triage, value, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        triage.route(value)


def test_route_many_checks_items_and_lengths(triage: Triage) -> None:
    with pytest.raises(TypeError, match=r"messages\[1\] must be str, got bytes"):
        triage.route_many(["ok", b"bad"])
    with pytest.raises(TypeError, match="for one message use route"):
        triage.route_many("just a string")
    with pytest.raises(ValueError, match="conversation_ids has 1 items for 2 messages"):
        triage.route_many(["a", "b"], conversation_ids=["c"])
    with pytest.raises(TypeError, match="conversation_id"):
        triage.route("hello", conversation_id=17)
    assert triage.route_many([]) == []


@pytest.mark.parametrize("text", ["", "   ", "\n\t\r\n"])
def test_when_empty_then_empty_message_decision(triage: Triage, text: str) -> None:
    d = triage.route(text)
    assert d.reasons == ["empty_message"]
    assert d.action == triage.policy.rules.empty_message


@pytest.mark.parametrize(
    "text",
    [
        "a\x00b\x00c",
        "\ud800 lone surrogate \udfff",
        "\u202e\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",  # RTL, Hebrew, Arabic
        "z\u0335\u0321\u0322a\u0337\u035dl\u0334g\u0336o\u0338" * 50,  # zalgo
        "\U0001f62d\U0001f62d\U0001f494",  # emoji only
        "\u200b\u200b\u200b",  # invisible only
        "\x7f\x1b[31m",
    ],
)
def test_when_odd_text_then_a_decision(triage: Triage, text: str) -> None:
    d = triage.route(text)
    assert d.action in triage.policy.actions
    assert "fail_safe:model_error" not in d.reasons


def test_when_10mb_then_decision_and_safety_net_scans_the_end(triage: Triage) -> None:
    text = "lorem ipsum dolor " * 580_000 + " i will kill myself"
    assert len(text) > 10_000_000
    d = triage.route(text)
    assert d.crisis and "safety_net:self_harm_intent" in d.reasons
    assert d.message_length == len(text)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=300), min_size=1, max_size=4))
def test_property_any_text_gets_a_decision(triage: Triage, texts: list[str]) -> None:
    decisions = triage.route_many(texts)
    assert len(decisions) == len(texts)
    for d, text in zip(decisions, texts, strict=True):
        assert d.action in triage.policy.actions
        assert d.message_length == len(text)
        assert not any(r.startswith("fail_safe") for r in d.reasons), d.reasons


@pytest.mark.parametrize("bad_id", ["c\ud800", "c\x00", "x" * 257])
def test_when_conversation_id_unstorable_then_value_error(triage: Triage, bad_id: str) -> None:
    with pytest.raises(ValueError, match="conversation_id must be at most 256 characters"):
        triage.route("hello", conversation_id=bad_id)


@pytest.fixture
def storing_triage(make_triage):
    return make_triage(policy=policy_with(privacy={"store_raw_text": True}))


def test_when_text_stored_then_nul_and_surrogates_are_made_storable(storing_triage) -> None:
    from review_queue.models import Case
    from review_queue.privacy import message_hmac

    text = "i want to die \x00 \ud800 now"
    d = storing_triage.route(text)
    assert d.case_id and not any(r.startswith("fail_safe") for r in d.reasons)
    with storing_triage.store.session() as s:
        case = s.get(Case, d.case_id)
    assert case.message_text == "i want to die \ufffd \ufffd now"
    assert case.message_hmac == message_hmac(storing_triage.store.key, text)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=200))
def test_property_any_text_is_persisted_when_text_is_stored(storing_triage, text: str) -> None:
    d = storing_triage.route("i want to kill myself " + text)
    assert d.case_id and not any(r.startswith("fail_safe") for r in d.reasons), d.reasons
