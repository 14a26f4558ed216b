"""Frames of crisis language: who is at risk, when, and what the text is doing.

A crisis phrase is not a risk by itself. "I want to die" is a disclosure; "why do you want to
die?" is someone helping; "I used to self harm" is a recovery story; "what are the warning
signs of suicide?" is a question about the topic. ``FrameReader`` reads the frame of a safety
net match (ConText triggers around the phrase) or of the sentence stage one flagged (the
triggers in the sentence). The policy turns frames into urgency; a frame never keeps
first-person crisis language from a person.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from stages.context import ConText, Direction, Modifier, Tokens, Trigger
from stages.data_files import load_yaml_model, shipped_file

Who = Literal["writer", "someone_else", "unspecified"]
When = Literal["now", "past", "recovered", "hypothetical"]
Act = Literal["telling", "asking_help", "addressing", "quoting", "topic", "figurative"]

_FIRST_PERSON = frozenset({"i", "im", "ive", "id", "me", "my", "myself", "mine"})
_THIRD_PERSON = frozenset(
    {"he", "she", "him", "her", "his", "hers", "himself", "herself", "them", "their", "they"}
)
_PERSON_CATEGORIES = ("WRITER", "ADDRESSEE", "OTHER_PERSON", "GENERIC_PERSON")
_WHEN_PRECEDENCE: tuple[tuple[str, When], ...] = (
    ("RECURRENCE", "now"),
    ("RECOVERED", "recovered"),
    ("PAST", "past"),
    ("CURRENT", "now"),
    ("HYPOTHETICAL", "hypothetical"),
)
SOMEONE_ELSE_CATEGORY = "someone_else_at_risk"


class Frame(BaseModel):
    """Who is at risk, when, and what the text is doing, for one span."""

    model_config = ConfigDict(frozen=True)

    who: Who = Field(description="writer, someone_else (addressed or named) or unspecified.")
    when: When = Field(description="now, past, recovered or hypothetical.")
    act: Act = Field(description="What the sentence does with the crisis words.")
    negated: bool = Field(default=False, description="The words are negated ('im not ...').")

    @property
    def lowers(self) -> bool:
        """The words are not a present, first-hand disclosure: review, not urgent."""
        return self.when != "now" or self.negated or self.act in ("topic", "quoting", "figurative")

    @property
    def urgent(self) -> bool:
        """The writer's own risk, now: nothing in the frame lowers it."""
        return not (self.lowers or self.about_someone_else)

    @property
    def about_someone_else(self) -> bool:
        """The person at risk is someone the writer names or addresses, not the writer."""
        return self.who == "someone_else"

    def describe(self) -> str:
        """A short machine-readable form for reasons: ``who/when/act[/negated]``."""
        return "/".join([self.who, self.when, self.act] + (["negated"] if self.negated else []))


class TriggerGroup(BaseModel):
    """Triggers that share a category and a scope."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(pattern=r"^[A-Z_]+$")
    direction: Direction
    max_scope: int | None = Field(default=None, ge=1)
    terminated_by: list[str] = Field(default_factory=list)
    literals: list[str] = Field(min_length=1)


class FrameRules(BaseModel):
    """The frames data file."""

    model_config = ConfigDict(extra="forbid")

    version: int
    triggers: list[TriggerGroup] = Field(min_length=1)
    topic_phrases: list[str] = Field(default_factory=list)

    def expanded(self) -> list[Trigger]:
        """One ``Trigger`` per literal."""
        return [
            Trigger(lit, g.category, g.direction, g.max_scope, frozenset(g.terminated_by))
            for g in self.triggers
            for lit in g.literals
        ]


def default_frames_file() -> Path:
    """Path of the frame rules shipped with the library."""
    return shipped_file("frames.yaml")


def load_frame_rules(path: str | Path | None = None) -> FrameRules:
    """Read and validate a frames YAML file (the shipped one by default)."""
    path = Path(path) if path is not None else default_frames_file()
    return load_yaml_model(FrameRules, path, "frames file")


class FrameReader:
    """Reads frames with ConText over normalised text."""

    def __init__(self, rules: FrameRules | None = None) -> None:
        self.rules = rules if rules is not None else load_frame_rules()
        self.context = ConText(self.rules.expanded())
        self.topic_phrases = frozenset(self.rules.topic_phrases)
        self._tokens = functools.lru_cache(maxsize=256)(Tokens.of)

    def of_match(
        self, normalised: str, start: int, end: int, *, phrase: str, category: str
    ) -> Frame:
        """The frame of a phrase matched at ``[start, end)`` of the normalised text."""
        tokens = self._tokens(normalised)
        target = tokens.token_range(start, end)
        mods = [m for m in self.context.modifiers(tokens) if self.context.modifies(m, target)]
        words = set(phrase.split())
        names_topic = phrase in self.topic_phrases
        if words & _FIRST_PERSON:  # "kill my self"; "he hits me" is the writer's risk too
            who: Who = "writer"
            addressed = False
        elif category == SOMEONE_ELSE_CATEGORY or words & _THIRD_PERSON:
            who, addressed = "someone_else", False
        else:
            who, addressed = _nearest_person(mods, target, names_topic)
            names_topic = names_topic or who == "unspecified"
        # A topic trigger ("essay", "warning signs") makes a phrase a topic unless the
        # phrase itself names the writer ("kill my self").
        return _frame(
            mods,
            who,
            addressed=addressed,
            topic_trigger=not words & _FIRST_PERSON,
            names_topic=names_topic,
        )

    def of_sentence(self, normalised: str) -> Frame:
        """The frame of a whole sentence (stage one's evidence): every trigger in it counts.

        Who: the writer when first-person words are at least as many as words for the
        people addressed or named ("i think you underestimate ..." is about them).
        """
        tokens = self._tokens(normalised)
        # Negation needs a target to negate: in a whole sentence it is mostly crisis
        # language itself ("no way out", "i cant go on").
        mods = [m for m in self.context.modifiers(tokens) if m.category != "NEGATED"]
        count = Counter(m.category for m in mods)
        others = count["ADDRESSEE"] + count["OTHER_PERSON"]  # people in general are no one
        if count["WRITER"] and count["WRITER"] >= others:
            who: Who = "writer"
        elif others:
            who = "someone_else"
        else:
            who = "unspecified"
        addressed = who == "someone_else" and count["ADDRESSEE"] >= count["OTHER_PERSON"]
        return _frame(mods, who, addressed=addressed, topic_trigger=True, names_topic=False)


def _nearest_person(mods: list[Modifier], target: tuple[int, int], topic: bool) -> tuple[Who, bool]:
    """Who a phrase without a person of its own is about: the nearest person trigger."""
    people = [m for m in mods if m.category in _PERSON_CATEGORIES]
    if people:
        nearest = min(people, key=lambda m: (_distance(m, target), m.category != "WRITER"))
        if nearest.category == "WRITER":
            return "writer", False
        if nearest.category == "GENERIC_PERSON":  # people in general: no one in particular
            return "unspecified", False
        return "someone_else", nearest.category == "ADDRESSEE"
    if any(m.category == "IMPLIED_WRITER" for m in mods) or not topic:
        return "writer", False  # chat drops the subject: "want to die", "feeling suicidal"
    return "unspecified", False


_AFTER_TARGET = 4  # the subject comes before its verb: a person after the phrase counts less


def _distance(modifier: Modifier, target: tuple[int, int]) -> int:
    start, end = target
    if modifier.end <= start:
        return start - modifier.end
    return modifier.start - end + _AFTER_TARGET


def _frame(
    mods: list[Modifier], who: Who, *, addressed: bool, topic_trigger: bool, names_topic: bool
) -> Frame:
    """Resolve the triggers reaching a span into a frame.

    ``topic_trigger``: a topic trigger makes it a topic; ``names_topic``: with no person, the
    span names the subject ("the trouble with suicide is ...").
    """
    categories = {m.category for m in mods}
    when: When = "now"
    for category, meaning in _WHEN_PRECEDENCE:
        if category in categories:
            when = meaning
            break
    act: Act = "telling"
    if "TOPIC" in categories and topic_trigger or who == "unspecified" and names_topic:
        act = "topic"
    elif "QUOTE" in categories:
        act = "quoting"
    elif "FIGURATIVE" in categories:
        act = "figurative"
    elif addressed:
        act = "addressing"
    elif "HELP" in categories:
        act = "asking_help"
    return Frame(who=who, when=when, act=act, negated="NEGATED" in categories)
