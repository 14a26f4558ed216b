"""Surface variants of training texts, so that a label cannot ride on how a text is typed.

Stage one's short positives (the safety net's phrases in carrier sentences, the warning signs)
are written as chat is typed: no final punctuation, contractions without apostrophes ("im",
"dont"). Most of its short negatives are Reddit comments, typed with both. A model then learns
the typing: "i think my cat is judging me" scores as crisis, "I think my cat is judging me
lol." does not. A varied row has its final punctuation taken off (or a full stop added where
there is none) and its apostrophes dropped (or put back in the common contractions), each with
even odds, whatever its label.
"""

from __future__ import annotations

import random
import re

from datasets import Dataset

_END = re.compile(r"[\s.!?…]+$")
# Unambiguous contractions only: "ill", "id", "were", "its" are words of their own.
_CONTRACTIONS = {
    "im": "i'm",
    "ive": "i've",
    "dont": "don't",
    "cant": "can't",
    "wont": "won't",
    "didnt": "didn't",
    "doesnt": "doesn't",
    "isnt": "isn't",
    "wasnt": "wasn't",
    "couldnt": "couldn't",
    "wouldnt": "wouldn't",
    "shouldnt": "shouldn't",
    "havent": "haven't",
    "thats": "that's",
    "whats": "what's",
    "theres": "there's",
    "youre": "you're",
    "theyre": "they're",
}
_BARE = re.compile(r"\b(" + "|".join(_CONTRACTIONS) + r")\b", re.IGNORECASE)
_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")


def vary_surface(text: str, rng: random.Random) -> str:
    """``text`` with its final punctuation and its apostrophes each flipped at even odds."""
    if rng.random() < 0.5:
        if _END.search(text):
            text = _END.sub("", text)
        elif text.strip():
            text = text.rstrip() + "."
    if rng.random() < 0.5:
        if _APOSTROPHE.search(text):
            text = _APOSTROPHE.sub("", text)
        else:
            text = _BARE.sub(lambda m: _with_case(_CONTRACTIONS[m.group(1).lower()], m), text)
    return text


def _with_case(word: str, match: re.Match[str]) -> str:
    return word.capitalize() if match.group(1)[0].isupper() else word


def with_surface_variants(rows: Dataset, share: float, seed: int) -> Dataset:
    """``rows`` with a ``share`` of their texts varied (``vary_surface``), reproducibly."""
    if not share:
        return rows

    def vary(row: dict[str, object], index: int) -> dict[str, object]:
        rng = random.Random(seed * 1_000_003 + index)
        text = str(row["text"])
        return {"text": vary_surface(text, rng) if rng.random() < share else text}

    return rows.map(vary, with_indices=True)
