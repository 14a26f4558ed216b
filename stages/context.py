"""The ConText algorithm (Harkema et al., 2009) over normalised chat text.

ConText decides whether a target phrase ("kill my self") is modified by trigger phrases
around it in the same sentence ("used to", "my friend", "what if"). Each trigger has a
category and a direction: it modifies the targets after it (``forward``), before it
(``backward``) or on both sides (``bidirectional``), up to ``max_scope`` tokens and never past
the sentence, a terminating trigger ("but") or another trigger of the same category.
``pseudo`` triggers ("not only") match and modify nothing, so the shorter triggers inside them
do not fire either.

This is medspaCy's ConText (same rule fields, same scope rules) without spaCy: on this
project's Python, medspaCy needs spaCy < 3.8 and so NumPy < 2, which the rest of the stack
has left (the agreement with medspaCy on the same rules is measured in
``reports/2026-12-04-frames/``). It runs in microseconds on one message and only on
messages with a crisis match or a flagged sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Direction = Literal["forward", "backward", "bidirectional", "terminate", "pseudo"]

_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
_SENTENCE_END = frozenset(".!?")


@dataclass(frozen=True)
class Trigger:
    """A phrase that modifies targets near it."""

    literal: str
    category: str
    direction: Direction
    max_scope: int | None = None
    terminated_by: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Modifier:
    """A trigger found in a text: its token span and the tokens it reaches."""

    trigger: Trigger
    start: int  # token index
    end: int
    scope: tuple[int, int]

    @property
    def category(self) -> str:
        """The trigger's category."""
        return self.trigger.category


@dataclass(frozen=True)
class Tokens:
    """A text cut into tokens, with each token's characters and sentence."""

    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    sentences: tuple[tuple[int, int], ...]  # token ranges

    @classmethod
    def of(cls, text: str) -> Tokens:
        """Tokens of normalised text; a sentence ends at ``.``, ``!``, ``?`` or a line break."""
        words: list[str] = []
        spans: list[tuple[int, int]] = []
        sentences: list[tuple[int, int]] = []
        start = previous_end = 0
        for m in _TOKEN.finditer(text):
            if "\n" in text[previous_end : m.start()] and len(words) > start:
                sentences.append((start, len(words)))
                start = len(words)
            words.append(m.group(0))
            spans.append(m.span())
            previous_end = m.end()
            if m.group(0) in _SENTENCE_END:
                sentences.append((start, len(words)))
                start = len(words)
        if start < len(words):
            sentences.append((start, len(words)))
        return cls(tuple(words), tuple(spans), tuple(sentences))

    def sentence_of(self, token: int) -> tuple[int, int]:
        """The token range of the sentence holding ``token``."""
        for start, end in self.sentences:
            if start <= token < end:
                return start, end
        return (0, len(self.words))

    def token_range(self, start_char: int, end_char: int) -> tuple[int, int]:
        """Tokens overlapping the characters [start_char, end_char)."""
        inside = [i for i, (a, b) in enumerate(self.spans) if a < end_char and start_char < b]
        if not inside:
            before = sum(1 for a, _ in self.spans if a < start_char)
            return before, before
        return inside[0], inside[-1] + 1


class ConText:
    """Finds the triggers of a rule set in a text and which targets each one modifies."""

    def __init__(self, triggers: list[Trigger]) -> None:
        self.triggers = triggers
        self._by_first: dict[str, list[tuple[tuple[str, ...], Trigger]]] = {}
        for trigger in triggers:
            words = tuple(_TOKEN.findall(trigger.literal))
            if not words:
                raise ValueError(f"empty trigger {trigger.literal!r}")
            self._by_first.setdefault(words[0], []).append((words, trigger))
        for options in self._by_first.values():
            options.sort(key=lambda o: -len(o[0]))  # longest first

    def modifiers(self, tokens: Tokens) -> list[Modifier]:
        """Every trigger in the text with its scope (pseudo and overlapped ones dropped)."""
        found: list[tuple[int, int, Trigger]] = []
        i, n = 0, len(tokens.words)
        while i < n:
            for words, trigger in self._by_first.get(tokens.words[i], ()):
                if tokens.words[i : i + len(words)] == words:
                    found.append((i, i + len(words), trigger))
                    i += len(words)
                    break
            else:
                i += 1
        out = [
            Modifier(t, a, b, self._scope(tokens, a, b, t))
            for a, b, t in found
            if t.direction not in ("pseudo", "terminate")
        ]
        stops = [(a, b, t) for a, b, t in found if t.direction == "terminate"]
        return [self._limited(m, out, stops) for m in out]

    @staticmethod
    def _scope(tokens: Tokens, start: int, end: int, trigger: Trigger) -> tuple[int, int]:
        s_start, s_end = tokens.sentence_of(start)
        lo = s_start if trigger.direction in ("backward", "bidirectional") else end
        hi = s_end if trigger.direction in ("forward", "bidirectional") else start
        if trigger.max_scope is not None:
            lo = max(lo, start - trigger.max_scope)
            hi = min(hi, end + trigger.max_scope)
        return lo, hi

    @staticmethod
    def _limited(
        modifier: Modifier, others: list[Modifier], stops: list[tuple[int, int, Trigger]]
    ) -> Modifier:
        """Cut the scope at the nearest terminating trigger, or trigger of the same category.

        As in medspaCy, a trigger of a category it is ``terminated_by`` cuts it too, and of two
        triggers of one category ("i ... i ...") each stops where the other starts.
        """
        lo, hi = modifier.scope
        cuts = [(a, b) for a, b, _ in stops]
        cuts += [
            (o.start, o.end)
            for o in others
            if o is not modifier
            and (o.category == modifier.category or o.category in modifier.trigger.terminated_by)
        ]
        for a, b in cuts:
            if modifier.end <= a < hi:
                hi = a
            if lo < b <= modifier.start:
                lo = b
        return Modifier(modifier.trigger, modifier.start, modifier.end, (lo, hi))

    @staticmethod
    def modifies(modifier: Modifier, target: tuple[int, int]) -> bool:
        """Whether ``modifier`` reaches the target's tokens without overlapping them."""
        start, end = target
        overlaps_trigger = modifier.start < end and start < modifier.end
        lo, hi = modifier.scope
        return not overlaps_trigger and lo < end and start < hi
