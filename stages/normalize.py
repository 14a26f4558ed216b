"""Normalise text before phrase matching, so obfuscated crisis language is still seen.

The output is for matching only (never stored or shown): it folds Unicode compatibility
forms, strips invisible and combining characters, folds look-alike letters from other scripts
to Latin, transliterates what is left to ASCII, lower-cases, drops apostrophes and joins
runs of spaced-out single letters ("k i l l" -> "kill"). Leetspeak and repeated letters are
handled by the phrase patterns (see ``compile_phrase``), which match every reading at once.
Everything here is linear in the text's length.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable

from anyascii import anyascii

_SURROGATES = re.compile("[\ud800-\udfff]")
# Zero-width, joiners, bidi controls, soft hyphen, word joiners, BOM, variation selectors,
# combining marks (zalgo) and C0 controls other than tab/newline.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
)
_NON_ASCII_RUN = re.compile("[^\x00-\x7f]+")
_APOSTROPHES = re.compile("['`\u2018\u2019\u02bc]")
# Three or more single "letters" (leet digits/symbols count) split by one or two separators.
_LETTER = r"[a-z0-9@$!|+]"
_SPACED_LETTERS = re.compile(
    rf"(?<![a-z0-9])((?:{_LETTER}[ ._\-*,~]{{1,2}}){{2,}}{_LETTER})(?![a-z0-9])"
)
_SEPARATORS = re.compile(r"[ ._\-*,~]")

# Letters from Cyrillic, Greek and other scripts that look like Latin ones. anyascii
# transliterates by sound (Cyrillic "с" -> "s"); an attacker relies on looks ("с" -> "c").
_LOOKALIKES = str.maketrans(
    {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "һ": "h",
        "ӏ": "l",
        "ԛ": "q",
        "ԝ": "w",
        "к": "k",
        "м": "m",
        "т": "t",
        "в": "b",
        "н": "h",
        "ё": "e",
        "ї": "i",
        "ɡ": "g",
        "ɩ": "i",
        "А": "a",
        "В": "b",
        "Е": "e",
        "К": "k",
        "М": "m",
        "Н": "h",
        "О": "o",
        "Р": "p",
        "С": "c",
        "Т": "t",
        "Х": "x",
        "І": "i",
        "Ј": "j",
        "Ѕ": "s",
        "Ү": "y",
        "ү": "y",
        "α": "a",
        "ο": "o",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
        "β": "b",
        "η": "n",
        "Α": "a",
        "Β": "b",
        "Ε": "e",
        "Ζ": "z",
        "Η": "h",
        "Ι": "i",
        "Κ": "k",
        "Μ": "m",
        "Ν": "n",
        "Ο": "o",
        "Ρ": "p",
        "Τ": "t",
        "Υ": "y",
        "Χ": "x",
        "ı": "i",
        "ℓ": "l",
        "∣": "l",
        "ǀ": "l",
    }
)


def _join_spaced(match: re.Match[str]) -> str:
    return _SEPARATORS.sub("", match.group(1))


def normalize(text: str) -> str:
    """Return the matching form of ``text`` (see the module docstring)."""
    text = _SURROGATES.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = unicodedata.normalize("NFD", text)
    text = _INVISIBLE.sub("", text)
    text = text.translate(_LOOKALIKES)
    text = _NON_ASCII_RUN.sub(lambda m: anyascii(m.group(0)), text)
    text = text.lower()
    text = _APOSTROPHES.sub("", text)
    return _SPACED_LETTERS.sub(_join_spaced, text)


_LEET_FOLD = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"}
)
_MIXED_WORD = re.compile(r"[a-z0-9@$]*[a-z][a-z0-9@$]*")


def without_surrogates(text: str) -> str:
    """Lone surrogates (a cut emoji) become U+FFFD, so any library can encode the text."""
    return _SURROGATES.sub("\ufffd", text)


def model_text(text: str, unmask: Callable[[str], str] | None = None) -> str:
    """What the model stages read: ``normalize`` plus leetspeak folded inside words.

    Only words that mix letters with digits or symbols are folded ("k1ll" -> "kill");
    "2024" and "$5" stay as they are. ``unmask`` (an ``Unmasker``) then reads censored words.
    """
    folded = _MIXED_WORD.sub(
        lambda m: m.group(0).translate(_LEET_FOLD) if not m.group(0).isalpha() else m.group(0),
        normalize(text),
    )
    return unmask(folded) if unmask is not None else folded


# A word with censoring masks between its letters: "s*icide", "k*ll". Not "*this*" or
# "have*": asterisks around words are emphasis or a correction.
_MASKED_WORD = re.compile(r"(?<![a-z0-9*])[a-z]+(?:\*+[a-z]+)+(?![a-z0-9*])")
_VOWELS = frozenset("aeiou")


class Unmasker:
    """Reads a vowel-censored word ("s*icide") as the one vocabulary word it can stand for.

    A mask stands for one vowel, so the text keeps its length (and evidence spans their
    place). A word that fits no vocabulary word, or several ("d*e": "die" and "due"), is left
    as it is. Linear in the text: unmasking is a lookup, never a pattern with masks in it.
    """

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._by_shape: dict[tuple[int, str], list[str]] = {}
        for word in sorted(set(vocabulary)):
            if word:
                self._by_shape.setdefault((len(word), word[0]), []).append(word)
        self._read = functools.lru_cache(maxsize=4096)(self._read_word)

    def __call__(self, text: str) -> str:
        """``text`` with each censored word it can read unmasked."""
        return _MASKED_WORD.sub(lambda m: self._read(m.group(0)), text) if "*" in text else text

    def _read_word(self, masked: str) -> str:
        fits = [
            word
            for word in self._by_shape.get((len(masked), masked[0]), ())
            if all(m == w or (m == "*" and w in _VOWELS) for m, w in zip(masked, word, strict=True))
        ]
        return fits[0] if len(fits) == 1 else masked


# Each letter of a phrase matches its leetspeak readings, repeated any number of times.
_LEET: dict[str, str] = {
    "a": "a4@",
    "b": "b8",
    "e": "e3",
    "g": "g9",
    "i": "i1!|",
    "l": "l1|",
    "o": "o0",
    "s": "s5$z",
    "t": "t7+",
    "z": "z2",
}
_WORD_GAP = r"[\W_]*"
_WORD_START = r"(?<![a-z0-9])"
_WORD_END = r"(?![a-z])"

# Slots a phrase may hold, for attempts told in everyday words ("took like twenty of my moms
# sleeping pills"). A count is a number from five (digits or words), maybe hedged ("like",
# "about"); an amount is a count or a rough one ("a bunch", "half", "all"); a drug is up to
# five words ("of my moms sleeping") before a medicine's name.
_HEDGE = r"(?:(?:like|about|around|maybe|roughly|over|almost|nearly|probably|at least)[\W_]+)?"
_NUMBER = (
    r"(?:[5-9]|[1-9][0-9]+|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|a dozen|"
    r"dozens|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\W_]*[a-z]+)?|"
    r"a hundred|hundreds)(?![a-z0-9])"
)
_ROUGH = r"(?:a bunch|a load|loads|a lot|a handful|handfuls|half|all|most|the whole|the rest)"
_MEDICINES = (
    r"(?:pills|tablets|meds|medication|medicine|painkillers|pain killers|antidepressants|"
    r"paracetamol|acetaminophen|tylenol|ibuprofen|advil|aspirin|xanax|valium|benzos|oxy|"
    r"oxycodone|opioids|codeine|tramadol|insulin|lithium|seroquel|ambien|zoloft|prozac|"
    r"lexapro|sertraline|melatonin|benadryl|capsules)"
)
SLOTS = {
    "<n>": r"[0-9]{2,}",
    "<count>": _HEDGE + _NUMBER,
    "<amount>": _HEDGE + rf"(?:{_NUMBER}|{_ROUGH})",
    "<drug>": rf"(?:[a-z0-9]+[\W_]+){{0,5}}?{_MEDICINES}",
}


def phrase_atoms(phrase: str) -> list[str]:
    """Split a phrase-list entry into regex atoms over normalised text.

    Words may be run together or split by any punctuation ("kill my self" matches
    "killmyself" and "kill-my-self"); each letter matches its leet readings and repeats
    ("k1llll"); a trailing ``*`` on a word matches any ending ("suicid*"); a slot word
    matches what ``SLOTS`` says: ``<n>`` a number of two or more digits ("took <n> pills"
    matches "took 30 pills"), ``<count>``, ``<amount>`` and ``<drug>`` the ways people count
    pills and name them ("took <amount> <drug>" matches "took like twenty of my moms
    sleeping pills").
    """
    words = normalize(phrase).split()
    if not words:
        raise ValueError(f"empty phrase {phrase!r}")
    atoms: list[str] = []
    for index, word in enumerate(words):
        if index:
            atoms.append(_WORD_GAP)
        if word in SLOTS:
            atoms.append(SLOTS[word])
            continue
        for ch in word.rstrip("*"):
            atoms.append(f"[{re.escape(_LEET[ch])}]+" if ch in _LEET else f"{re.escape(ch)}+")
        if word.endswith("*"):
            atoms.append("[a-z]*")
    atoms.append(_WORD_END)
    return atoms


_Trie = dict[str, "_Trie"]  # atom -> the rest of the phrases that start with it


def compile_phrases(phrases: list[str]) -> re.Pattern[str]:
    """One regex for many phrases, shaped as a trie so a scan costs little per word.

    Each phrase ends in an empty named group ``p<index>``: ``match.lastgroup`` names the
    phrase that matched. Longer phrases are tried first, so the most specific one is reported.
    """
    trie: _Trie = {}
    order = sorted(range(len(phrases)), key=lambda i: -len(phrases[i]))
    for index in order:
        node = trie
        for atom in phrase_atoms(phrases[index]):
            node = node.setdefault(atom, {})
        node.setdefault("", {})[f"p{index}"] = {}

    def emit(node: _Trie) -> str:
        branches = [atom + emit(child) for atom, child in node.items() if atom]
        branches += [f"(?P<{name}>)" for name in node.get("", {})]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return re.compile(_WORD_START + emit(trie))
