"""The one protocol every scoring stage follows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from stages.results import StageResult


@runtime_checkable
class Stage(Protocol):
    """Anything that scores a batch of texts: a model stage or the rule safety net.

    ``predict`` returns one result per text, in order. It may raise; the facade turns an
    exception into fail-safe results for the affected texts.
    """

    name: str

    def predict(self, texts: Sequence[str]) -> list[StageResult]:
        """Score each text."""
        ...


@runtime_checkable
class SentenceScorer(Protocol):
    """A crisis stage that can score sentences on their own.

    Stage one's evidence for counselors (the sentence behind a flag, and its frame) comes from
    a stage with this capability; a stage without it flags without evidence.
    """

    def crisis_probabilities(self, texts: Sequence[str]) -> list[float]:
        """The crisis probability of each text, on any monotonic scale (used to rank)."""
        ...
