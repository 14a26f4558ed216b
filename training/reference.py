"""Reference traffic for load reports: validation sets whose need for a person is known.

Everyday messages, calm and stressed posts should rarely reach a person; r/SuicideWatch
posts, psychiatrist-labelled at-risk users and the hand-written crisis messages should. None
of it is training data (validation splits and held-out checks only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from training.cssrs import load_cssrs
from training.data import load_dreaddit, load_goemotions, load_sdcnl, subsample

CHECKS_FILE = Path(__file__).parent / "crisis_checks.yaml"
# Hand-written check sections, and whether each one needs a person urgently.
CHECK_SECTIONS = {
    "crisis": True,
    "implicit": True,
    "attempts": True,
    "recovery": False,
    "topic": False,
    "someone_else": False,
    "figurative": False,
    "everyday": False,
}


@dataclass(frozen=True)
class ReferenceSet:
    """Named texts; ``units`` groups texts by person (None: each text is its own unit)."""

    name: str
    texts: list[str]
    at_risk: bool | None
    units: list[str] | None = None


def check_sets(path: Path = CHECKS_FILE) -> list[ReferenceSet]:
    """The hand-written short messages of ``crisis_checks.yaml``, one set per section."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        ReferenceSet(f"checks: {section}", list(data[section]), at_risk)
        for section, at_risk in CHECK_SECTIONS.items()
    ]


def reference_traffic(root: Path | None, *, everyday: int | None = None) -> list[ReferenceSet]:
    """Every reference set: corpora validation splits, C-SSRS users by label, the checks.

    ``everyday`` caps the GoEmotions validation messages (None: all 5,426).
    """
    go = subsample(load_goemotions(root)["validation"], everyday)["text"]
    dreaddit = load_dreaddit(root)["validation"]
    sdcnl = load_sdcnl(root)["validation"]
    sets = [
        ReferenceSet("everyday messages (GoEmotions)", list(go), False),
        ReferenceSet(
            "calm posts (Dreaddit)",
            [t for t, y in zip(dreaddit["text"], dreaddit["label"], strict=True) if y == 0],
            False,
        ),
        ReferenceSet(
            "stressed posts (Dreaddit)",
            [t for t, y in zip(dreaddit["text"], dreaddit["label"], strict=True) if y == 1],
            False,
        ),
        ReferenceSet(
            "r/SuicideWatch posts (SDCNL)",
            [t for t, y in zip(sdcnl["text"], sdcnl["is_suicide"], strict=True) if y == 1],
            True,
        ),
    ]
    users = load_cssrs(root)
    for name, labels, at_risk in (
        ("C-SSRS at-risk users", ("Ideation", "Behavior", "Attempt"), True),
        ("C-SSRS Indicator users", ("Indicator",), False),
        ("C-SSRS Supportive users", ("Supportive",), False),
    ):
        chosen = [u for u in users if u.label in labels]
        sets.append(
            ReferenceSet(
                name,
                [p for u in chosen for p in u.posts],
                at_risk,
                [u.id for u in chosen for _ in u.posts],
            )
        )
    return sets + check_sets()
