"""A stage one under the shipped policy, the C-SSRS users figured by half.

Train with and without the Supportive users' posts as negatives, then evaluate each:

    triage train --task crisis --recipe demo --seed 14 --supportive-weight 1 --output /tmp/s14
    triage train --task crisis --recipe demo --seed 14 --output /tmp/base-s14
    TRIAGE_DATA_DIR=$(realpath ../shared/data) .venv/bin/python \
        reports/2026-12-04-cssrs-negatives/study.py /tmp/s14 --name supportive-w1-s14

Results go to ``results-<name>.json`` beside this file: the validation sets and checks, and
the C-SSRS figures on the half of the users ``supportive_weight`` trains on and on the
held-out half (``training.cssrs.split_users``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import training.pipeline as pipeline
from policies.loader import load_policy
from stages.frames import FrameReader
from stages.safety_net import SafetyNet
from training.cssrs import AT_RISK, load_cssrs, split_users
from training.data import data_dir
from training.evaluate import load_stage
from training.reference import check_sets
from training.tiers import by_user, kinds, rates, score, user_auc

HERE = Path(__file__).parent


GROUPS = (("at risk", AT_RISK), ("Supportive", ("Supportive",)), ("Indicator", ("Indicator",)))


def evaluate(model: Path, name: str) -> dict:
    """Urgent and reach-a-person shares per set, and the C-SSRS figures by half."""
    policy = load_policy(None)
    stage = load_stage(model)
    frames = FrameReader()
    net = SafetyNet(frames=frames)
    data = pipeline.load_task("crisis", data_dir())
    out: dict = {"model": str(model), "threshold": stage.card.thresholds}
    for key in ("suicidewatch", "goemotions_validation", "not_stressed", "depression"):
        out[key] = rates(kinds(policy, score(stage, net, frames, list(data.slices[key]["text"]))))
    for check in check_sets():
        out[check.name] = rates(kinds(policy, score(stage, net, frames, check.texts)))
    tune, report = split_users(load_cssrs(data_dir()))
    for half, people in (("tune", tune), ("report", report)):
        units = [u.id for u in people for _ in u.posts]
        scored = score(stage, net, frames, [p for u in people for p in u.posts])
        tier = by_user(units, kinds(policy, scored))
        label = {u.id: u.label for u in people}
        figures = {}
        for group, chosen in GROUPS:
            figures[group] = rates([t for user, t in tier.items() if label[user] in chosen])
        positive = {u.id: u.at_risk for u in people if u.at_risk or u.label == "Supportive"}
        figures["auc_at_risk_vs_supportive"] = round(user_auc(units, scored, positive), 4)
        out[f"cssrs_{half}"] = figures
    (HERE / f"results-{name}.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return out


def main() -> None:
    """Evaluate one model directory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", type=Path)
    parser.add_argument("--name", required=True)
    args = parser.parse_args()
    evaluate(args.model, args.name)


if __name__ == "__main__":
    main()
