"""A stage one under the shipped policy, the C-SSRS users figured by half.

Train with and without the Supportive users' posts as negatives, then evaluate each:

    triage train --task crisis --recipe demo --seed 14 --supportive-weight 1 --output /tmp/s14
    triage train --task crisis --recipe demo --seed 14 --output /tmp/base-s14
    TRIAGE_DATA_DIR=$(realpath ../shared/data) .venv/bin/python \
        reports/2026-12-04-cssrs-negatives/study.py /tmp/s14 --name supportive-w1-s14

Results go to ``results-<name>.json`` beside this file: the validation sets and checks, and
the C-SSRS figures on the half of the users ``supportive_weight`` trains on and on the
held-out half (``training.cssrs.split_users``). With ``--sweep``, the urgent shares as the
policy's ``risk.urgent_at`` moves (the texts scored once) go to ``sweep-<name>.json``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import training.pipeline as pipeline
from policies.loader import load_policy
from policies.schema import Policy
from stages.frames import FrameReader
from stages.model_dir import StageCard
from stages.safety_net import SafetyNet
from training.cssrs import AT_RISK, load_cssrs, split_users
from training.data import data_dir
from training.evaluate import load_stage
from training.reference import check_sets
from training.tasks import TaskData
from training.tiers import Scored, by_user, kinds, rates, score, user_auc
from triage.testing import policy_with

HERE = Path(__file__).parent


GROUPS = (("at risk", AT_RISK), ("Supportive", ("Supportive",)), ("Indicator", ("Indicator",)))
URGENT_AT = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def scorer(model: Path) -> tuple[Callable[[list[str]], list[Scored]], TaskData]:
    """The stage one of a model directory with the shipped net and frames, and the crisis data."""
    stage = load_stage(model)
    frames = FrameReader()
    net = SafetyNet(frames=frames)

    def run(texts: list[str]) -> list[Scored]:
        return score(stage, net, frames, texts)

    return run, pipeline.load_task("crisis", data_dir())


def rates_by_group(policy: Policy, units: list[str], scored: list[Scored], label: dict) -> dict:
    """Each C-SSRS group's users: share with an urgent post, share reaching a person."""
    tier = by_user(units, kinds(policy, scored))
    return {
        group: rates([t for user, t in tier.items() if label[user] in chosen])
        for group, chosen in GROUPS
    }


def evaluate(model: Path, name: str) -> dict:
    """Urgent and reach-a-person shares per set, and the C-SSRS figures by half."""
    policy = load_policy(None)
    run, data = scorer(model)
    out: dict = {"model": str(model), "threshold": StageCard.load(model).thresholds}
    for key in ("suicidewatch", "goemotions_validation", "not_stressed", "depression"):
        out[key] = rates(kinds(policy, run(list(data.slices[key]["text"]))))
    for check in check_sets():
        out[check.name] = rates(kinds(policy, run(check.texts)))
    tune, report = split_users(load_cssrs(data_dir()))
    for half, people in (("tune", tune), ("report", report)):
        units = [u.id for u in people for _ in u.posts]
        scored = run([p for u in people for p in u.posts])
        label = {u.id: u.label for u in people}
        figures: dict = rates_by_group(policy, units, scored, label)
        positive = {u.id: u.at_risk for u in people if u.at_risk or u.label == "Supportive"}
        figures["auc_at_risk_vs_supportive"] = round(user_auc(units, scored, positive), 4)
        out[f"cssrs_{half}"] = figures
    (HERE / f"results-{name}.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return out


def sweep(model: Path, name: str) -> dict:
    """Urgent shares per set and per C-SSRS half at each ``urgent_at``."""
    run, data = scorer(model)
    sets = {
        key: run(list(data.slices[key]["text"]))
        for key in ("goemotions_validation", "not_stressed", "suicidewatch")
    }
    people = dict(zip(("tune", "report"), split_users(load_cssrs(data_dir())), strict=True))
    label = {u.id: u.label for half in people.values() for u in half}
    halves = {
        half: ([u.id for u in users for _ in u.posts], run([p for u in users for p in u.posts]))
        for half, users in people.items()
    }
    out: dict = {"model": str(model)}
    for at in URGENT_AT:
        policy = policy_with(risk={"urgent_at": at})
        row: dict = {key: rates(kinds(policy, scored))["urgent"] for key, scored in sets.items()}
        for half, (units, scored) in halves.items():
            by_group = rates_by_group(policy, units, scored, label)
            row[f"cssrs_{half}"] = {group: shares["urgent"] for group, shares in by_group.items()}
        out[str(at)] = row
    (HERE / f"sweep-{name}.json").write_text(json.dumps(out, indent=2) + "\n")
    return out


def main() -> None:
    """Evaluate one model directory, or sweep ``urgent_at`` for it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--sweep", action="store_true", help="urgent shares as urgent_at moves")
    args = parser.parse_args()
    if args.sweep:
        print(json.dumps(sweep(args.model, args.name), indent=2))
    else:
        evaluate(args.model, args.name)


if __name__ == "__main__":
    main()
