"""Frames of crisis language: who is at risk, when, what the text is doing; both directions.

A frame may lower urgency (review instead of urgent) or send crisis language about someone
else to guidance; explicit first-person crisis language now stays urgent whatever the frame
of the rest of the message, and every first-person match reaches a person.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stages.context import ConText, Tokens, Trigger
from stages.frames import FrameReader
from stages.safety_net import SafetyNet
from triage import Triage

NET = SafetyNet()


def _frames(text: str) -> list[str]:
    return [e.frame.describe() for e in NET.matches(text) if e.frame is not None]


@pytest.mark.parametrize(
    ("text", "frame"),
    [
        ("i want to kill myself", "writer/now/telling"),
        ("want to die", "writer/now/telling"),  # chat drops the subject
        ("feeling suicidal again", "writer/now/telling"),
        ("i tried to kill myself last year and i feel like that again", "writer/now/telling"),
        ("i used to be happy, now i want to kill myself", "writer/now/telling"),
        ("i was clean for 2 years but i relapsed and cut myself", "writer/now/telling"),
        ("can someone help me, i want to die", "writer/now/asking_help"),
        ("he hits me every night", "writer/now/telling"),
    ],
)
def test_when_the_writer_states_a_risk_now_then_the_frame_is_urgent(text: str, frame: str) -> None:
    assert frame in _frames(text)
    assert any(e.urgent for e in NET.matches(text))


@pytest.mark.parametrize(
    ("text", "frame"),
    [
        ("i used to cut myself in high school", "writer/past/telling"),
        ("years ago i wanted to kill myself, now i have a life i love", "writer/recovered/telling"),
        ("three years clean from self harm today", "unspecified/recovered/topic"),
        ("im not suicidal, just tired", "writer/now/telling/negated"),
        ("what are the warning signs of suicide", "unspecified/now/topic"),
        ("im writing an essay about suicidal thoughts", "writer/now/topic"),
        ("ugh i want to die lol", "writer/now/figurative"),
        ("why do you want to die?", "someone_else/now/addressing"),
        ("my sister told me she wants to kill herself", "someone_else/now/quoting"),
        ("my brother keeps saying he wants to die", "someone_else/now/telling"),
    ],
)
def test_when_the_frame_is_not_the_writers_risk_now_then_it_lowers(text: str, frame: str) -> None:
    assert frame in _frames(text)
    assert not any(e.urgent for e in NET.matches(text))


def test_a_sentence_about_the_person_addressed_is_theirs_not_the_writers() -> None:
    reader = FrameReader()
    assert reader.of_sentence("i think you underestimate the pain your death would cause").who == (
        "someone_else"
    )
    assert reader.of_sentence("i feel like nobody would miss me").who == "writer"
    # Negation needs a target: in a whole sentence it is crisis language itself.
    assert not reader.of_sentence("there is no way out and i cant go on").negated


def test_context_scopes_end_at_the_sentence_a_terminator_or_max_scope() -> None:
    context = ConText(
        [
            Trigger("used to", "PAST", "forward"),
            Trigger("but", "TERMINATE", "terminate"),
            Trigger("not", "NEGATED", "forward", max_scope=1),
            Trigger("not only", "PSEUDO", "pseudo"),
        ]
    )
    tokens = Tokens.of("i used to cut but now i cut. i used to cut")
    mods = context.modifiers(tokens)
    past = [m for m in mods if m.category == "PAST"]
    assert [m.scope for m in past] == [(3, 4), (12, 13)]  # cut at "but"; the end of the text
    assert not context.modifiers(Tokens.of("not only that"))  # the pseudo trigger hides "not"
    negated = context.modifiers(Tokens.of("i am not very sad"))
    assert [m.scope for m in negated] == [(3, 4)]  # one word after "not"
    assert not context.modifies(negated[0], (4, 5))  # a trigger never modifies itself


@pytest.mark.parametrize(
    "text",
    [
        "i took like twenty of my moms sleeping pills about an hour ago",
        "took a bunch of my dads heart meds, feeling dizzy",
        "i swallowed half the bottle of my sisters antidepressants",
        "just took a load of paracetamol, dont know how many",
        "i had maybe fifteen of the painkillers from the cabinet",
        "took around 40 ibuprofen earlier",
        "drank the whole bottle with a handful of xanax",
        "i keep thinking about jumping from the bridge on main street",
    ],
)
def test_attempts_told_in_everyday_words_are_urgent(text: str) -> None:
    matches = NET.matches(text)
    assert matches and any(e.urgent for e in matches), (text, _frames(text))


@pytest.mark.parametrize(
    "text",
    [
        "i took two tylenol for my headache",
        "i took my meds this morning",
        "took like five minutes to get here",
        "i had a lot of pills to sort at the pharmacy",
        "hanging out with a bunch of friends",
    ],
)
def test_everyday_pills_and_counts_are_not_attempts(text: str) -> None:
    assert not NET.matches(text)


@pytest.mark.parametrize(
    ("text", "tier", "action"),
    [
        ("i want to kill myself tonight", "urgent", "urgent_human_review"),
        ("i used to cut myself but ive been clean for two years", "review", "human_review"),
        ("what are the warning signs of suicide", "review", "human_review"),
        ("im not suicidal, just really tired", "review", "human_review"),
        ("my best friend says she wants to kill herself", "review", "guidance"),
    ],
)
def test_frames_route_through_the_policy(
    make_triage: Callable[..., Triage], text: str, tier: str, action: str
) -> None:
    d = make_triage().route(text, region="US")
    assert (d.tier, d.action) == (tier, action)
    assert d.crisis  # the net matched: a lowered frame is still crisis language
    assert d.human and d.case_id is not None
    if action == "guidance":  # the reply helps the writer help them; a counselor follows up
        assert [r.key for r in d.resources] == ["helping_someone", "crisis_line"]
        assert d.priority is not None and d.priority > 3  # after the writers' own risk


def test_first_person_now_stays_urgent_beside_a_lowered_frame(
    make_triage: Callable[..., Triage],
) -> None:
    d = make_triage().route("my friend wants to die and honestly i want to kill myself too")
    assert d.tier == "urgent" and d.action == "urgent_human_review" and d.priority == 0
