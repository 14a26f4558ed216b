"""Obfuscate crisis words the way people dodge filters, for robustness evaluation."""

from __future__ import annotations

import random
import re

CRISIS_WORDS = re.compile(
    r"\b(kill|killing|die|dying|dead|death|suicide|suicidal|myself|life|live|living|end|"
    r"pills|overdose|cut|cutting|hurt|hang|gun|rope|jump|goodbye)\b",
    re.IGNORECASE,
)
_LEET = str.maketrans({"i": "1", "e": "3", "a": "4", "o": "0", "s": "5", "t": "7"})
_HOMOGLYPHS = str.maketrans(
    {
        "a": "\u0430",
        "e": "\u0435",
        "o": "\u043e",
        "i": "\u0456",
        "c": "\u0441",
        "p": "\u0440",
        "s": "\u0455",
        "y": "\u0443",
    }
)
# Censoring: the first vowel after the first letter masked ("s*icide", "k*ll", "mys*lf").
_FIRST_INNER_VOWEL = re.compile(r"(?<=.)[aeiou]", re.IGNORECASE)
STYLES = ("leetspeak", "homoglyphs", "zero_width", "spaced", "masked")


def obfuscate(text: str, style: str) -> str:
    """Rewrite every crisis word of ``text`` in one obfuscation ``style``."""

    def rewrite(match: re.Match[str]) -> str:
        word = match.group(0)
        if style == "leetspeak":
            return word.lower().translate(_LEET)
        if style == "homoglyphs":
            return word.lower().translate(_HOMOGLYPHS)
        if style == "zero_width":
            return "\u200d".join(word)
        if style == "spaced":
            return " ".join(word)
        if style == "masked":
            return _FIRST_INNER_VOWEL.sub("*", word, count=1)
        raise ValueError(f"unknown style {style!r}; choose one of {STYLES}")

    return CRISIS_WORDS.sub(rewrite, text)


def mixed(text: str, seed: int) -> str:
    """Each crisis word in a style drawn at random (fixed seed)."""
    rng = random.Random(seed)
    return CRISIS_WORDS.sub(lambda m: obfuscate(m.group(0), rng.choice(STYLES)), text)
