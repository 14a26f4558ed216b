"""The Reddit C-SSRS users (Gaur et al. 2019): psychiatrist-rated suicide risk per user.

Each row is one Reddit user with a list of posts and one label on the Columbia Suicide
Severity Rating Scale: ``Supportive`` (helps others, no risk of their own), ``Indicator``
(risk indicators, no suicidality), ``Ideation``, ``Behavior`` or ``Attempt`` (at risk). The
label is the user's, not each post's.

The published text has two defects this loader repairs as far as it can:

- rows cut at a spreadsheet cell limit: the posts before the cut are kept;
- ontology concept names substituted for words ("like" -> "Hyperactive behavior"): the
  common substitutions are undone (``RESTORE``), HTML entities are unescaped. The restoration
  is approximate: a model should not learn the substitutions, nor be scored on them.
"""

from __future__ import annotations

import ast
import csv
import html
import random
import re
from dataclasses import dataclass
from pathlib import Path

LABELS = ("Supportive", "Indicator", "Ideation", "Behavior", "Attempt")
AT_RISK = ("Ideation", "Behavior", "Attempt")
FILE = "reddit_cssrs_dev/reddit_cssrs_dev.csv"

# Ontology concept name -> the word it most often replaced, read off the posts' contexts.
# Longest first, so "Anxiety Mental Depression" is undone before "Mental Depression".
RESTORE: dict[str, str] = {
    "Crying Reflex, Abnormal": "cry",
    "Ventricular Dysfunction, Left": "left",
    "Malignant neoplastic disease": "cancer",
    "Anxiety Mental Depression": "anxiety",
    "Localized Rash generalised": "rash",
    "Oedema of extremity": "feet",
    "Hypothermia, natural": "natural",
    "Hyperactive behavior": "like",
    "Disturbance in mood": "mess",
    "Delusional disorder": "paranoid",
    "Panic Attacks attack": "panic attack",
    "Mental Depression": "depression",
    "Abnormal behavior": "weird",
    "Diabetes mellitus": "diabetes",
    "Injury of muscle": "permanent",
    "Weakness of hand": "hand",
    "Drug withdrawal": "withdrawal",
    "Emotional upset": "emotional",
    "Depressed mood": "bad",
    "Elevated mood": "happy",
    "Sedated state": "calm",
    "Phobia, Social": "social",
    "Irritable Mood": "mean",
    "Drug craving": "craving",
    "Common cold": "cold",
    "Social fear": "scared",
    "Sharp Pain": "hurt",
    "Chest Pain": "hurt",
    "Drug abuse": "high",
    "Sad mood": "sadness",
    "Hypersomnia": "sleep",
    "Wakefulness": "awake",
    "Exhaustion": "tired",
    "Numbness": "numb",
    "Asthenia": "week",
    "Illness": "sick",
    "Nausea": "sick",
    "Ache": "pain",
    "Pain": "hurt",
}
# "very" became "Tired"; the real word survives as "Tired of" ("Im Tired of this world").
_TIRED = re.compile(r"\bTired\b(?! of\b)")
# "hopeless" became "Feeling hopeless" (and so on for a few feelings).
_FEELING = re.compile(r"\bFeeling (hopeless|despair|unhappy|angry|nervous|sad|guilty|lonely)\b")
_RESTORE = re.compile("|".join(rf"\b{re.escape(k)}\b" for k in RESTORE))


def restore(text: str) -> str:
    """Undo the common ontology substitutions and HTML entities of a C-SSRS post."""
    text = _RESTORE.sub(lambda m: RESTORE[m.group(0)], html.unescape(text))
    text = _FEELING.sub(lambda m: m.group(1), text)
    return _TIRED.sub("very", text)


def parse_posts(field: str) -> list[str]:
    """The posts of one ``Post`` field, a Python list literal; a cut list keeps what is whole."""
    try:
        return [str(p) for p in ast.literal_eval(field)]
    except (SyntaxError, ValueError):
        pass
    # Cut mid-list: close it after the last complete item that parses.
    for boundary in sorted(
        (m.start() + 1 for m in re.finditer(r"""['"], ['"]""", field)), reverse=True
    ):
        try:
            return [str(p) for p in ast.literal_eval(field[:boundary] + "]")]
        except (SyntaxError, ValueError):
            continue
    return []


@dataclass(frozen=True)
class User:
    """One rated user: id, C-SSRS label and restored posts."""

    id: str
    label: str
    posts: tuple[str, ...]

    @property
    def at_risk(self) -> bool:
        """Ideation, Behavior or Attempt."""
        return self.label in AT_RISK


def load_cssrs(root: Path | None) -> list[User]:
    """Every user of the development half, posts restored; ``FileNotFoundError`` without it."""
    if root is None or not (root / FILE).is_file():
        raise FileNotFoundError(
            f"the C-SSRS users are only available locally: set TRIAGE_DATA_DIR to a folder "
            f"holding {FILE}"
        )
    csv.field_size_limit(1 << 30)
    with (root / FILE).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    users = []
    for row in rows:
        if row["Label"] not in LABELS:
            raise ValueError(f"{FILE}: unknown label {row['Label']!r} for {row['User']}")
        posts = tuple(p for p in (restore(p).strip() for p in parse_posts(row["Post"])) if p)
        users.append(User(row["User"], row["Label"], posts))
    return users


def split_users(users: list[User], seed: int = 13) -> tuple[list[User], list[User]]:
    """Two halves stratified by label: one to tune thresholds on, one to report on."""
    rng = random.Random(seed)
    tune, report = [], []
    for label in LABELS:
        group = sorted((u for u in users if u.label == label), key=lambda u: u.id)
        rng.shuffle(group)
        half = len(group) // 2
        tune += group[:half]
        report += group[half:]
    return tune, report
