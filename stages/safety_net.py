"""The safety net: a rule stage that fires on explicit crisis language, whatever the models say."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from stages.data_files import load_yaml_model, shipped_file
from stages.frames import FrameReader
from stages.labels import CRISIS, NOT_CRISIS
from stages.normalize import Unmasker, compile_phrases, normalize
from stages.results import Evidence, StageResult


class PhraseCategory(BaseModel):
    """A named list of crisis phrases."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(description="What the phrases of this category indicate.")
    phrases: list[str] = Field(
        default_factory=list, description="Phrases in plain lower-case English."
    )
    # Stage one's training data never sees these (training/tasks.py): as positives, the
    # phrases mined from real posts raised false alarms (recipes.md, E14).
    net_only: list[str] = Field(
        default_factory=list, description="Phrases matched like the others, never trained on."
    )

    @model_validator(mode="after")
    def _has_a_phrase(self) -> PhraseCategory:
        if not self.phrases and not self.net_only:
            raise ValueError("a category needs at least one phrase (`phrases` or `net_only`)")
        return self


class PhraseLists(BaseModel):
    """The safety net's data file."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(description="Format version of the phrase file.")
    categories: dict[str, PhraseCategory] = Field(min_length=1)
    negatives: list[str] = Field(
        default_factory=list, description="Idioms whose matches are not crisis language."
    )

    def without_net_only(self) -> PhraseLists:
        """These lists less every `net_only` phrase (and the categories left with none)."""
        categories = {
            name: entry.model_copy(update={"net_only": []})
            for name, entry in self.categories.items()
            if entry.phrases
        }
        return self.model_copy(update={"categories": categories})

    def vocabulary(self) -> set[str]:
        """Every word of the phrases, and each two neighbours joined ("my self": "myself")."""
        words: set[str] = set()
        for entry in self.categories.values():
            for phrase in (*entry.phrases, *entry.net_only):
                parts = [w for w in normalize(phrase).split() if w.isalpha()]
                words.update(parts)
                words.update(a + b for a, b in zip(parts, parts[1:], strict=False))
        return words


def default_phrase_file() -> Path:
    """Path of the phrase lists shipped with the library."""
    return shipped_file("safety_net.yaml")


def load_phrase_lists(path: str | Path | None = None) -> PhraseLists:
    """Read and validate a phrase-list YAML file (the shipped one by default)."""
    path = Path(path) if path is not None else default_phrase_file()
    return load_yaml_model(PhraseLists, path, "safety-net phrase file")


@functools.cache
def crisis_unmasker() -> Unmasker:
    """Reads censored words ("s*icide", "k*ll mys*lf") as the shipped phrase lists spell them.

    The model stages read text through it, as the net reads text through its own lists'
    unmasker: censoring a crisis word hides it from neither.
    """
    return Unmasker(load_phrase_lists().vocabulary())


def _masks(idiom: tuple[int, int], match: tuple[int, int]) -> bool:
    """An idiom masks a crisis match it overlaps, unless the match spans the whole idiom.

    "rather be dead than" masks "rather be dead" in "i'd rather be dead than go to that
    meeting", but not the longer, more specific "rather be dead than live" that contains it.
    """
    (i_start, i_end), (start, end) = idiom, match
    overlaps = start < i_end and i_start < end
    return overlaps and not (start <= i_start and i_end <= end)


class SafetyNet:
    """Flags explicit crisis language in the whole normalised text, one evidence span per match.

    Each match carries its frame (who is at risk, when, what the text is doing), read by
    ``frames``; the policy decides what a frame changes.
    """

    name = "safety_net"

    def __init__(
        self, phrases: PhraseLists | None = None, frames: FrameReader | None = None
    ) -> None:
        self.phrases = phrases if phrases is not None else load_phrase_lists()
        self.frames = frames if frames is not None else FrameReader()
        self._entries = [
            (category, phrase)
            for category, entry in self.phrases.categories.items()
            for phrase in (*entry.phrases, *entry.net_only)
        ]
        self._unmask = Unmasker(self.phrases.vocabulary())
        self._positive = compile_phrases([phrase for _, phrase in self._entries])
        self._negative = compile_phrases(self.phrases.negatives) if self.phrases.negatives else None

    def matches(self, text: str) -> tuple[Evidence, ...]:
        """Evidence spans for every crisis phrase in ``text`` outside a negative idiom."""
        normalised = self._unmask(normalize(text))
        idioms = [m.span() for m in self._negative.finditer(normalised)] if self._negative else []
        found = []
        for match in self._positive.finditer(normalised):
            start, end = match.span()
            if any(_masks(idiom, (start, end)) for idiom in idioms):
                continue
            category, phrase = self._entries[int(match.lastgroup[1:])]  # type: ignore[index]
            frame = self.frames.of_match(normalised, start, end, phrase=phrase, category=category)
            found.append(
                Evidence(category=category, phrase=phrase, start=start, end=end, frame=frame)
            )
        return tuple(found)

    def predict(self, texts: Sequence[str]) -> list[StageResult]:
        """Label each text ``crisis`` when any phrase matches, with the matches as evidence."""
        results = []
        for text in texts:
            evidence = self.matches(text)
            fired = bool(evidence)
            results.append(
                StageResult(
                    stage=self.name,
                    label=CRISIS if fired else NOT_CRISIS,
                    scores={CRISIS: 1.0 if fired else 0.0},
                    threshold=1.0,
                    evidence=evidence,
                )
            )
        return results
