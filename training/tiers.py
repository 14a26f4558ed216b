"""Risk tiers of stage one and the safety net on evaluation data, under a policy's risk rules.

The policy engine's ``read_risk`` on the results the live path computes (the net's matches
with their frames, stage one's calibrated risk with its evidence sentence and frame), without
stage two or the queue: what the crisis report and threshold sweeps need.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

from policies.engine import read_risk
from policies.schema import Policy
from stages.attribution import with_evidence
from stages.frames import FrameReader
from stages.labels import CRISIS
from stages.results import StageResult
from stages.safety_net import SafetyNet
from stages.transformer import TransformerStage

Scored = tuple[StageResult, StageResult]  # (safety net, stage one) for one text


def score(
    stage: TransformerStage, net: SafetyNet, frames: FrameReader, texts: Sequence[str]
) -> list[Scored]:
    """The net's and stage one's results for each text, evidence and frames attached."""
    texts = list(texts)
    if not texts:
        return []
    crisis = with_evidence(stage, frames, texts, stage.predict(texts))
    return list(zip(net.predict(texts), crisis, strict=True))


def kinds(policy: Policy, scored: Sequence[Scored]) -> list[str]:
    """The tier of each text: urgent, review, someone_else or none.

    ``someone_else`` is kept apart only when its action opens no case: where the policy sends
    crisis language about someone else to a person (guidance), a person sees it, as review.
    """
    guidance_opens_case = policy.actions[policy.someone_else_action].human
    found = [read_risk(policy, safety, crisis).kind for safety, crisis in scored]
    if guidance_opens_case:
        return ["review" if k == "someone_else" else k for k in found]
    return found


def rates(found: Sequence[str]) -> dict[str, float]:
    """Share urgent, and share reaching a person (urgent or review)."""
    n = max(len(found), 1)
    urgent = sum(k == "urgent" for k in found)
    person = sum(k in ("urgent", "review") for k in found)
    return {"urgent": round(urgent / n, 4), "reach_person": round(person / n, 4)}


def by_user(users: Sequence[str], found: Sequence[str]) -> dict[str, str]:
    """Each user's most urgent tier over their posts."""
    order = {"urgent": 0, "review": 1, "someone_else": 2, "none": 3}
    out: dict[str, str] = {}
    for user, kind in zip(users, found, strict=True):
        out[user] = min(out.get(user, "none"), kind, key=order.__getitem__)
    return out


def user_auc(users: Sequence[str], scored: Sequence[Scored], positive: dict[str, bool]) -> float:
    """ROC AUC of users' highest stage-one risk, positive users against the others."""
    best: dict[str, float] = defaultdict(float)
    for user, (_, crisis) in zip(users, scored, strict=True):
        best[user] = max(best[user], crisis.scores.get(CRISIS, 0.0))
    chosen = [u for u in best if u in positive]
    labels = np.array([positive[u] for u in chosen], dtype=int)
    return round(float(roc_auc_score(labels, [best[u] for u in chosen])), 4)
