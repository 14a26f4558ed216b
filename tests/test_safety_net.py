"""The safety net fires on explicit crisis language, however spelled, and not on idioms."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stages.labels import CRISIS, NOT_CRISIS
from stages.normalize import Unmasker, model_text, normalize
from stages.safety_net import PhraseCategory, PhraseLists, SafetyNet, crisis_unmasker


@pytest.fixture(scope="module")
def net() -> SafetyNet:
    return SafetyNet()


FIRES = [
    ("i want to kill myself", "self_harm_intent"),
    ("k1ll mys3lf", "self_harm_intent"),
    ("thinking about su1c1de", "self_harm_intent"),
    ("i just want to unal1ve myself", "self_harm_intent"),
    ("k i l l m y s e l f", "self_harm_intent"),
    ("k.i.l.l my self", "self_harm_intent"),
    ("killlll myselfff", "self_harm_intent"),
    ("KILL MYSELF", "self_harm_intent"),
    ("ki\u200bll my\u200dself", "self_harm_intent"),  # zero-width space / joiner
    ("\u202ekill myself\u202c", "self_harm_intent"),  # bidi override
    ("k\u0456ll mys\u0435lf", "self_harm_intent"),  # Cyrillic i and e
    (
        "\uff4b\uff49\uff4c\uff4c \uff4d\uff59\uff53\uff45\uff4c\uff46",
        "self_harm_intent",
    ),  # fullwidth
    ("k\u0301i\u0308l\u0303l myself", "self_harm_intent"),  # zalgo marks
    ("I don\u2019t want to live anymore", "self_harm_intent"),
    ("everyone would be better off without me", "self_harm_intent"),
    ("i feel suicidal tonight", "self_harm_intent"),
    ("I wrote a suicide note", "suicide_plan"),
    ("I've written letters to my family", "suicide_plan"),
    ("i've been hoarding pills", "means"),
    ("i bought a rope", "means"),
    ("this is my last message", "imminent_danger"),
    ("he hits me when he drinks", "abuse"),
    ("my stepdad threatened to kill me", "abuse"),
    ("honestly i feel like a burden to my family", "self_harm_intent"),
    ("it would be easier for them if i wasn't around", "self_harm_intent"),
    ("would anyone even care if i died", "self_harm_intent"),
    ("my boyfriend hits me", "abuse"),
    ("she said she would kill me if i left", "abuse"),
    ("i don't want to be here anymore", "self_harm_intent"),
    ("im so tired of being alive", "self_harm_intent"),
    ("i have nothing left to live for", "self_harm_intent"),
    ("i don't think i can keep myself safe tonight", "self_harm_intent"),
    ("i'm scared of what i might do to myself", "self_harm_intent"),
    ("i just swallowed a whole bottle of my sleeping pills", "attempt_in_progress"),
    ("I overdosed an hour ago and feel dizzy", "attempt_in_progress"),
    ("took way too many pills, they're kicking in", "attempt_in_progress"),
    ("i drank bleach", "attempt_in_progress"),
    ("I swallowed 30 pills", "attempt_in_progress"),
    ("took 12 ibuprofen an hour ago", "attempt_in_progress"),
    ("sitting in my car with the engine running in the garage", "attempt_in_progress"),
    ("i'm at the train tracks", "attempt_in_progress"),
    ("he's outside and says he'll hurt me", "abuse"),
    # Inflections of listed phrases (the -ing form of "take my life" was missing and a
    # validation r/SuicideWatch post said "I'm thinking of taking my life tomorrow night").
    ("i'm thinking of taking my life tomorrow night", "self_harm_intent"),
    ("i almost took my own life last year", "self_harm_intent"),
    ("i keep thinking about ending my own life", "self_harm_intent"),
    ("i want to shoot myself", "means"),
    ("thinking about stabbing myself again", "means"),
    # Net-only phrases, mined from r/SuicideWatch training posts the net missed.
    ("i just hope i never wake up", "self_harm_intent"),
    ("i wish i had never been born", "self_harm_intent"),
    ("what's the least painful way to die", "suicide_plan"),
    ("i keep thinking about driving my car off a bridge", "means"),
    ("i'm going to drive my car into a wall", "means"),
    ("so this is goodbye to all of you", "imminent_danger"),
    ("my best friend told me she wants to die", "someone_else_at_risk"),
    ("i think my brother is going to kill himself", "someone_else_at_risk"),
    # Net-only phrases written from general crisis-line knowledge.
    ("what is a lethal dose of tylenol", "suicide_plan"),
    ("ive been stockpiling my meds for when im ready", "means"),
    ("i have all the pills in front of me right now", "means"),
    ("i keep thinking about driving into oncoming traffic", "means"),
    ("if only i had the courage to end it", "self_harm_intent"),
    ("i give up on life", "self_harm_intent"),
    ("sewerslide is the only way out", "self_harm_intent"),
    # Censored vowels: a mask stands for a vowel, consonants stay literal.
    ("s*icidal again", "self_harm_intent"),
    ("i want to k*ll mys*lf", "self_harm_intent"),
    ("su*c*de is all i think about", "self_harm_intent"),
]

DOES_NOT_FIRE = [
    "this traffic is killing me",
    "I'd kill for a coffee right now",
    "my mom is going to kill me lol",
    "you killed it on stage tonight",
    "I'm dying to see that movie",
    "I almost died laughing",
    "I want to die of embarrassment",
    "did you watch suicide squad?",
    "september is suicide prevention month",
    "skills for myself",
    "I love this song so much",
    "what time does the pharmacy close?",
    "I have 30 pills left in my prescription",
    "the bleeding edge of technology",
    "the meeting would be better if i was there on time",
    "my dad hit me up about dinner",
    "i'm so tired of living with my parents",
    "how do i keep myself safe online?",
    "i can keep myself safe tonight, thank you",
    "i overdosed on coffee today, so jittery",
    "my mom took all my meds away, just in case",
    "my dog swallowed a sock",
    "took 2 pills for my headache",
    "it took 10 minutes to get there",
    "i really shot myself in the foot with that email",
    "never give up on life, it gets better",
    "what the f*ck, sh*t happens",
    "*** *** ***",
]


@pytest.mark.parametrize(("text", "category"), FIRES)
def test_when_crisis_language_then_fires_with_category(
    net: SafetyNet, text: str, category: str
) -> None:
    (result,) = net.predict([text])
    assert result.label == CRISIS
    assert category in {e.category for e in result.evidence}


@pytest.mark.parametrize("text", DOES_NOT_FIRE)
def test_when_idiom_or_everyday_text_then_does_not_fire(net: SafetyNet, text: str) -> None:
    (result,) = net.predict([text])
    assert result.label == NOT_CRISIS, result.evidence
    assert result.evidence == ()


def test_when_crisis_phrase_buried_in_long_text_then_found(net: SafetyNet) -> None:
    text = "blah " * 200_000 + " i will end my life " + "blah " * 200_000
    evidence = net.matches(text)
    assert [e.category for e in evidence] == ["self_harm_intent"]
    assert normalize(text)[evidence[0].start : evidence[0].end].startswith("end")


def test_when_idiom_and_crisis_in_same_message_then_crisis_still_fires(net: SafetyNet) -> None:
    (result,) = net.predict(["work is killing me and honestly i want to kill myself"])
    assert result.label == CRISIS
    assert [e.phrase for e in result.evidence] == ["kill my self"]


def test_normalize_strips_invisible_and_folds_lookalikes() -> None:
    assert normalize("K\u200bI\u2060L\ufeffL") == "kill"
    assert normalize("\u0455u\u0456c\u0456d\u0435") == "suicide"  # Cyrillic dze, i, ie
    assert normalize("a\x00b") == "ab"
    assert normalize("\ud800x") == "x"


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("i want to end it", True),
        ("there is no point in living anymore", True),
        ("im going to off myself", True),
        ("i've paid $200 off myself already", False),
        ("i want to end it with my girlfriend", False),
        ("i'd rather be dead than go to that meeting", False),
        # Idioms are narrow enough to leave the crisis sense of their words alone.
        ("i want to end it with pills tonight", True),
        ("im going to end it with a rope", True),
        ("I took an overdose of sleeping pills", True),
        ("i'm tired of living in this pain", True),
        ("goodbye everyone at work, last day tomorrow!", False),
        ("i'm thinking of ending it all with a bang at the party", False),
        ("i'd rather be dead than live like this", True),
        ("i want to end things with a rope", True),
        ("i want to end things with my boyfriend", False),
        ("we went bungee jumping off a bridge", False),
        ("i'm not sure how to end it now, so here is a quote", False),
        ("that video made him kill himself laughing", False),
        ("i've said my goodbyes to the people i love", True),
        ("said my goodbyes to the team today, new job on monday", False),
        ("this is goodbye to the world", True),
        ("this is goodbye to my old car", False),
    ],
)
def test_intent_phrases_and_their_idioms(net: SafetyNet, text: str, fires: bool) -> None:
    assert bool(net.matches(text)) is fires


def test_an_idiom_hides_overlapping_phrases_but_not_one_that_contains_it() -> None:
    lists = PhraseLists(
        version=1,
        categories={
            "self_harm_intent": PhraseCategory(
                description="test", phrases=["rather be dead", "rather be dead than live"]
            )
        },
        negatives=["rather be dead than"],
    )
    net = SafetyNet(lists)
    assert not net.matches("i'd rather be dead than go to that meeting")
    assert [e.phrase for e in net.matches("i'd rather be dead than live like this")] == [
        "rather be dead than live"
    ]


def test_a_category_needs_a_phrase_in_one_of_its_lists() -> None:
    assert PhraseCategory(description="net only", net_only=["kill him self"]).phrases == []
    with pytest.raises(ValidationError, match="at least one phrase"):
        PhraseCategory(description="empty")


def test_model_text_reads_censored_words_as_the_phrase_lists_spell_them() -> None:
    unmask = crisis_unmasker()
    assert model_text("I want to k*ll mys*lf", unmask) == "i want to kill myself"
    assert model_text("s*icidal again", unmask) == "suicidal again"
    # Emphasis and corrections are no masks; a word the lists do not hold stays masked.
    assert model_text("*this* is have* right", unmask) == "*this* is have* right"
    assert model_text("what the f***", unmask) == "what the f***"


@pytest.mark.timeout(20)
def test_runs_of_masks_cost_linear_time(net: SafetyNet) -> None:
    # Masks inside the phrase patterns backtracked cubically: 500 asterisks took 20 s.
    stars = "*" * 20_000
    assert not net.matches(f"i want to {stars} and k{stars}ll")
    assert net.matches(f"{stars} i want to k*ll mys*lf {stars}")
    assert model_text(f"to{stars}", crisis_unmasker()) == f"to{stars}"


def test_an_ambiguous_mask_is_left_as_it_is() -> None:
    unmask = Unmasker(["die", "due", "kill"])
    assert unmask("i want to d*e") == "i want to d*e"
    assert unmask("k*ll") == "kill"
    assert Unmasker(["die"])("i want to d*e") == "i want to die"
