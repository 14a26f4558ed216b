"""Whether any urgent threshold on stage one's risk meets the C-SSRS user targets together.

Scores every post of the psychiatrist-rated development users with the `make demo` stage one
(default CPU path), takes each user's highest calibrated risk, and reads the user-level ROC of
at-risk users against Supportive users: the best share of at-risk users above a threshold that
keeps Supportive users at or under 0.30, and the Supportive share any threshold that keeps
0.97 of the at-risk users must let through. Writes ``results-NAME.json`` beside this file.

    TRIAGE_DATA_DIR=$(realpath ../shared/data) .venv/bin/python \
        reports/2026-12-04-tier-feasibility/study.py [MODEL_DIR [NAME]]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import norm
from sklearn.metrics import roc_auc_score, roc_curve

from stages.labels import CRISIS
from stages.transformer import TransformerStage
from training.cssrs import load_cssrs, split_users
from training.data import data_dir

SUPPORTIVE_MAX = 0.30  # Supportive users urgent, target
AT_RISK_MIN = 0.97  # at-risk users urgent, target


def binormal_auc(tpr: float, fpr: float) -> float:
    """AUC of the equal-variance binormal ROC through (fpr, tpr)."""
    return float(norm.cdf((norm.ppf(tpr) - norm.ppf(fpr)) / np.sqrt(2)))


def read_roc(best: dict[str, float], positive: dict[str, bool]) -> dict[str, float]:
    """AUC, best at-risk share at Supportive <= 0.30, least Supportive share at at-risk >= 0.97."""
    users = sorted(positive)
    y = np.array([positive[u] for u in users], dtype=int)
    s = np.array([best[u] for u in users])
    fpr, tpr, _ = roc_curve(y, s)
    return {
        "users": len(users),
        "at_risk": int(y.sum()),
        "supportive": int(len(y) - y.sum()),
        "auc": round(float(roc_auc_score(y, s)), 4),
        "best_at_risk_share_with_supportive_at_most_0.30": round(
            float(tpr[fpr <= SUPPORTIVE_MAX].max()), 4
        ),
        "least_supportive_share_with_at_risk_at_least_0.97": round(
            float(fpr[tpr >= AT_RISK_MIN].min()), 4
        ),
    }


def main() -> None:
    """Score the users' posts, read the ROC, write ``results-NAME.json``."""
    model = sys.argv[1] if len(sys.argv) > 1 else "models/crisis"
    name = sys.argv[2] if len(sys.argv) > 2 else "shipped"
    stage = TransformerStage("crisis", model, backend="auto")
    people = load_cssrs(data_dir())
    posts = [(u.id, p) for u in people for p in u.posts]
    risks = stage.predict([p for _, p in posts])
    best: dict[str, float] = defaultdict(float)
    for (user, _), result in zip(posts, risks, strict=True):
        best[user] = max(best[user], result.scores.get(CRISIS, 0.0))
    positive = {u.id: u.at_risk for u in people if u.at_risk or u.label == "Supportive"}
    _, held_out = split_users(people)
    kept = {u.id for u in held_out}
    out = {
        "model": name,
        "binormal_auc_for_the_targets": round(binormal_auc(AT_RISK_MIN, SUPPORTIVE_MAX), 4),
        "all_users": read_roc(best, positive),
        "held_out_half": read_roc(best, {u: y for u, y in positive.items() if u in kept}),
        "users_at_top_risk": {
            group: round(
                float(np.mean([best[u] >= 0.99 for u, y in positive.items() if y == is_at_risk])), 4
            )
            for group, is_at_risk in (("at_risk", True), ("supportive", False))
        },
    }
    text = json.dumps(out, indent=2) + "\n"
    Path(__file__).with_name(f"results-{name}.json").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
