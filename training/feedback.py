"""Counselors' outcomes as training data: what `triage queue export` wrote, read back.

An outcome says whether the person was at risk: ``false_alarm`` and ``no_action_needed`` make
a stage-one negative (a false alarm the next model should learn from), ``contacted`` and
``emergency_services`` a positive. ``referred`` says neither and is left out. A corrected
support label makes a stage-two example. Cases store no text unless the policy said so: the
platform's texts are then joined by message id (``--feedback-texts``, JSON lines with ``id``
and ``text``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from datasets import Dataset

from stages.labels import CRISIS, SUPPORT_LABELS
from stages.model_dir import CARD_FILE
from stages.transformer import TransformerStage

FEEDBACK_SOURCE = "feedback"  # the ``source`` of stage one's feedback rows
OUTCOME_RISK = {
    "false_alarm": 0,
    "no_action_needed": 0,
    "contacted": 1,
    "emergency_services": 1,
}


@dataclass
class Feedback:
    """Labelled examples from counselors, and what could not be used."""

    crisis: list[tuple[str, int]] = field(default_factory=list)
    support: list[tuple[str, int]] = field(default_factory=list)
    without_text: int = 0

    def dataset(self, task: str, weight: float) -> Dataset | None:
        """The task's examples as rows with the columns of its other training rows."""
        rows = self.crisis if task == "crisis" else self.support if task == "support" else []
        if not rows:
            return None
        columns: dict[str, list[object]] = {
            "text": [t for t, _ in rows],
            "label": [y for _, y in rows],
            "weight": [weight] * len(rows),
        }
        if task == "crisis":  # stage one's hand-written rows say where they come from
            columns["source"] = [FEEDBACK_SOURCE] * len(rows)
        return Dataset.from_dict(columns)


def _jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_feedback(corrections: Path, texts: Path | None = None) -> Feedback:
    """Read an export of resolved cases (``ValueError`` naming the line of a bad one)."""
    by_id = {str(r["id"]): str(r["text"]) for r in _jsonl(texts)} if texts else {}
    out = Feedback()
    for number, row in enumerate(_jsonl(corrections), 1):
        if not isinstance(row, dict) or "outcome" not in row:
            raise ValueError(f"{corrections}:{number}: not a resolved case (no 'outcome')")
        text = row.get("text") or by_id.get(str(row.get("message_id")))
        if not isinstance(text, str) or not text.strip():
            out.without_text += 1
            continue
        risk = OUTCOME_RISK.get(str(row["outcome"]))
        if risk is not None:
            out.crisis.append((text, risk))
        label = row.get("label")
        if label is not None:
            if label not in SUPPORT_LABELS:
                raise ValueError(f"{corrections}:{number}: unknown support label {label!r}")
            out.support.append((text, SUPPORT_LABELS.index(str(label))))
    return out


def feedback_report(
    examples: list[tuple[str, int]], *, before: str | None, after: Path
) -> dict[str, object]:
    """How stage one decides the feedback examples, before and after retraining.

    ``before`` is the model trained from, when it is a stage directory; flags are counted among
    the false alarms and the people at risk.
    """
    texts = [t for t, _ in examples]
    labels = [y for _, y in examples]

    def flags(model: str | Path) -> dict[str, object]:
        results = TransformerStage("crisis", str(model)).predict(texts)
        flagged = [r.label == CRISIS for r in results]
        return {
            "false_alarms_flagged": sum(f for f, y in zip(flagged, labels, strict=True) if y == 0),
            "at_risk_flagged": sum(f for f, y in zip(flagged, labels, strict=True) if y == 1),
            "risk": [round(r.scores.get(CRISIS, 0.0), 4) for r in results],
        }

    report: dict[str, object] = {
        "examples": len(examples),
        "false_alarms": labels.count(0),
        "at_risk": labels.count(1),
        "after": flags(after),
    }
    if before is not None and (Path(before) / CARD_FILE).is_file():
        report["before"] = flags(before)
    return report
