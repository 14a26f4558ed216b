"""Language guard: a message in a language the models were not trained on is never "safe".

Detection uses lingua (accurate on short text). A text is *unverified* when the detector's
confidence that it is in any supported language is below ``max_confidence``. lingua's low
accuracy mode (trigrams only, about three times faster) judges first; only what it cannot
place in a supported language is judged again in high accuracy mode, whose verdict stands.
Very short Latin-script texts ("brb", "idk man") are too short to judge and pass; any text with
letters outside Latin script is judged however short ("我想死").
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from stages.normalize import without_surrogates
from stages.results import StageResult

SUPPORTED = "supported"
UNVERIFIED = "unverified"

# The languages the detector tells apart: about 20 MB of models each, preloaded. Any other
# language still comes out unverified when it is unlike English.
DETECTED = (
    "ARABIC CHINESE DUTCH ENGLISH FRENCH GERMAN HINDI INDONESIAN ITALIAN POLISH PORTUGUESE "
    "RUSSIAN SPANISH TAGALOG TURKISH UKRAINIAN VIETNAMESE"
).split()


def _languages() -> list[Any]:
    from lingua import Language

    return [getattr(Language, name) for name in DETECTED]


@lru_cache(maxsize=2)
def _detector(low_accuracy: bool) -> Any:
    from lingua import LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_languages(*_languages())
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.with_preloaded_language_models().build()


def _iso(language: Any) -> str:
    return str(language.iso_code_639_1.name).lower()


class LanguageGuard:
    """A stage: label ``supported`` or ``unverified`` (with the detected language)."""

    name = "language"

    def __init__(
        self,
        supported: Sequence[str] = ("en",),
        *,
        min_letters: int = 8,
        max_confidence: float = 0.01,
    ) -> None:
        self.supported = {s.lower() for s in supported}
        self.min_letters = min_letters
        self.max_confidence = max_confidence
        self.quick = _detector(low_accuracy=True)
        self.detector = _detector(low_accuracy=False)
        self._targets = [lang for lang in _languages() if _iso(lang) in self.supported]
        if not self._targets:
            raise ValueError(f"none of {sorted(self.supported)} is among the detected languages")

    def _too_short(self, text: str) -> bool:
        letters = [c for c in text if c.isalpha()]
        # Past Latin Extended-B, and not a letter that lowercases to ASCII (the Kelvin sign).
        non_latin = sum(not ("a" <= c.lower() <= "z") and ord(c) > 0x24F for c in letters)
        return len(letters) < self.min_letters and non_latin < 2

    def _judge(self, text: str, values: Any) -> StageResult:
        """The verdict from the quick mode's confidence values, confirmed if unsupported."""
        confidence = sum(v.value for v in values if v.language in self._targets)
        if confidence < self.max_confidence:
            values = self.detector.compute_language_confidence_values(text)
            confidence = sum(v.value for v in values if v.language in self._targets)
        if confidence >= self.max_confidence:
            return StageResult(stage=self.name, label=SUPPORTED, scores={SUPPORTED: confidence})
        return StageResult(
            stage=self.name,
            label=f"{UNVERIFIED}:{_iso(values[0].language)}",
            scores={SUPPORTED: confidence},
            threshold=self.max_confidence,
        )

    def predict(self, texts: Sequence[str]) -> list[StageResult]:
        """Judge each text (a batch on lingua's own threads)."""
        clean = [without_surrogates(t) for t in texts]
        out = [StageResult(stage=self.name, label=SUPPORTED, scores={SUPPORTED: 1.0})] * len(clean)
        judged = [k for k, t in enumerate(clean) if not self._too_short(t)]
        found = (
            self.quick.compute_language_confidence_values_in_parallel([clean[k] for k in judged])
            if len(judged) > 1
            else [self.quick.compute_language_confidence_values(clean[k]) for k in judged]
        )
        for k, values in zip(judged, found, strict=True):
            out[k] = self._judge(clean[k], values)
        return out
