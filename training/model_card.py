"""Model cards: a ``README.md`` in every model directory, in the Hugging Face card format.

YAML metadata, then intended use, training data with counts and licenses, the evaluation
figures of the run (validation sets named), thresholds and calibration, known failure modes
with examples, and ethical considerations.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from stages.model_dir import StageCard
from training.tasks import TaskData

CARD_FILE = "README.md"

# Where each source comes from and the license its publishers state.
SOURCES: dict[str, tuple[str, str]] = {
    "suicidewatch": ("SDCNL r/SuicideWatch posts (Haque et al. 2021)", "none stated"),
    "depression": ("SDCNL r/depression posts", "none stated"),
    "dreaddit": ("Dreaddit stressed and calm segments (Turcan & McKeown 2019)", "none stated"),
    "goemotions": ("GoEmotions comments (Demszky et al. 2020)", "Apache-2.0"),
    "dair_sad": ("dair-ai emotion, sadness and fear tweets", "research and education use"),
    "phrases": ("explicit crisis messages from the safety net's phrases", "Apache-2.0"),
    "carriers": ("everyday phrases in the positives' carrier sentences", "Apache-2.0"),
    "figurative": ("figurative uses of crisis words (hand-written)", "Apache-2.0"),
    "warning_signs": ("implicit warning signs (hand-written)", "Apache-2.0"),
    "look_alikes": ("everyday look-alikes of warning signs (hand-written)", "Apache-2.0"),
    "frame_addressing": ("crisis words addressed to someone (hand-written)", "Apache-2.0"),
    "frame_someone_else": ("crisis words about someone else (hand-written)", "Apache-2.0"),
    "frame_recovered": ("crisis words in recovery stories (hand-written)", "Apache-2.0"),
    "frame_topic": ("crisis words as a topic (hand-written)", "Apache-2.0"),
}

_INTENDED = {
    "crisis": (
        "Stage one of crisis-triage: scores how likely a chat message or post states the "
        "writer's own suicide risk now. Its calibrated risk and the safety net set the risk "
        "tier (urgent, review, none) under a policy that counselors' leads edit.",
        "Diagnosis, or any decision about a person without a counselor; moderation "
        "(removing or hiding posts); languages other than English; a score on its own, "
        "without the safety net and the policy's fail-safes.",
    ),
    "support": (
        "Stage two of crisis-triage: picks the kind of automatic support (crisis, emotional, "
        "positive, information, neutral) for messages that need no person.",
        "Deciding whether a person needs to see a message: that is the risk tier's job; its "
        "uncertainty never opens a case.",
    ),
}

_FAILURES = {
    "crisis": [
        "Short everyday messages that sound like distress score high ('Someone hold me', "
        "'I want someone to take me to the hospital').",
        "Subreddit labels: r/SuicideWatch posts that state no risk (a message of support to "
        "the forum) are positives, r/depression posts that state intent are negatives.",
        "Frames are read by rules: a recovery story without a recovery word ('self harm was "
        "how i coped at sixteen') reads as present.",
        "People who only support others on r/SuicideWatch are often scored as at risk: the "
        "psychiatrist-labelled users below show how often.",
    ],
    "support": [
        "GoEmotions labels are one rater's emotion, mapped to a support class: sarcasm and "
        "mixed emotions are often wrong.",
    ],
}


def _metadata(card: StageCard) -> dict[str, Any]:
    return {
        "language": ["en"],
        "license": "apache-2.0",
        "library_name": "transformers",
        "pipeline_tag": "text-classification",
        "base_model": (card.base_model or "unknown").split(" (")[0],
        "tags": ["crisis-triage", f"stage-{card.task}", "mental-health", "text-classification"],
        "metrics": sorted(card.metrics),
    }


def _counts(data: TaskData) -> Counter[str]:
    counts: Counter[str] = Counter()
    for ds in (data.train, data.curated):
        if ds is not None and "source" in ds.column_names:
            counts.update(ds["source"])
    return counts


def _data_section(data: TaskData) -> list[str]:
    counts = _counts(data)
    if not counts:
        return [f"{len(data.train)} training examples ({', '.join(data.labels)})."]
    rows = ["| source | examples (before subsampling) | license |", "|---|---|---|"]
    for source, n in sorted(counts.items()):
        name, license_ = SOURCES.get(source, (source, "see the corpus's DATA.md"))
        rows.append(f"| {name} | {n:,} | {license_} |")
    return rows


def _evaluation_section(card: StageCard) -> list[str]:
    rows = ["| figure (validation) | value |", "|---|---|"]
    rows += [f"| {k} | {v} |" for k, v in card.metrics.items()]
    rows += [f"| threshold {k} | {v:.4f} |" for k, v in card.thresholds.items()]
    if card.calibration is not None:
        c = card.calibration
        rows += [
            f"| calibration | sigmoid, slope {c.slope:.3f}, intercept {c.intercept:.3f} |",
            f"| calibration error (ECE, out of fold) | {c.ece} |",
        ]
    return rows


def write_model_card(model_dir: Path, data: TaskData) -> Path:
    """Write ``README.md`` into ``model_dir`` from its stage card and training data."""
    card = StageCard.load(model_dir)
    intended, out_of_scope = _INTENDED.get(card.task, ("A crisis-triage stage.", "See above."))
    lines = [
        "---",
        yaml.safe_dump(_metadata(card), sort_keys=False).strip(),
        "---",
        "",
        f"# crisis-triage {card.task} stage",
        "",
        (
            f"A linear head on the encoder of `{card.encoder}`"
            if card.encoder
            else f"Fine-tuned from `{card.base_model}`"
        )
        + f"; labels {card.labels}; {card.max_length} tokens per window, up to "
        f"{card.max_windows} windows per text.",
        "",
        "## Intended use",
        "",
        intended,
        "",
        "## Out-of-scope use",
        "",
        out_of_scope,
        "",
        "## Training data",
        "",
        *_data_section(data),
        "",
        "## Evaluation",
        "",
        "Figures of this run on the validation splits the thresholds were tuned on "
        "(validation r/SuicideWatch and r/depression posts, Dreaddit, GoEmotions): "
        "`triage evaluate` writes the full report, with held-out checks and the "
        "psychiatrist-rated C-SSRS users.",
        "",
        *_evaluation_section(card),
        "",
        "## Known failure modes",
        "",
        *[f"- {f}" for f in _FAILURES.get(card.task, [])],
        "",
        "## Ethical considerations",
        "",
        "A false alarm takes a counselor's time from someone at risk; a miss can cost a life. "
        "The library sends every failure and every first-person crisis statement to a person, "
        "keeps no message text unless the policy says so, and logs ids and scores only. Use "
        "it to order a crisis line's work, never to replace a counselor's judgement.",
        "",
    ]
    path = model_dir / CARD_FILE
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
