"""Stage one's risk tiers on validation data: calibration, frames, psychiatrist-rated users.

Metrics are pure functions of scored results (``training.tiers``); the Markdown and the
reliability plot are rendered from the metrics. Everything here is validation data or the
held-out checks; GoEmotions test is reported, never tuned on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from policies.schema import Policy
from stages.frames import FrameReader
from stages.labels import CRISIS
from stages.safety_net import SafetyNet
from stages.transformer import TransformerStage
from training.calibrate import reliability
from training.cssrs import AT_RISK, LABELS, load_cssrs, split_users
from training.obfuscate import STYLES, obfuscate
from training.reference import check_sets
from training.tasks import TaskData
from training.tiers import Scored, by_user, kinds, rates, score, user_auc

# The figures the project aims for (held-out data judges them; these are validation figures).
TARGETS: dict[str, tuple[str, float]] = {
    "C-SSRS at-risk users reaching a person": (">=", 0.99),
    "C-SSRS at-risk users urgent": (">=", 0.97),
    "C-SSRS Supportive users urgent": ("<=", 0.30),
    "C-SSRS Indicator users urgent": ("<=", 0.50),
    "AUC at-risk vs Supportive users": (">=", 0.80),
    "everyday messages urgent (GoEmotions validation)": ("<=", 0.005),
    "calm posts urgent (Dreaddit)": ("<=", 0.01),
    "crisis and implicit checks urgent": (">=", 0.99),
    "attempts in progress urgent": (">=", 1.0),
    "recovery and topic checks urgent": ("<=", 0.20),
    "r/SuicideWatch posts reaching a person": (">=", 0.97),
}


def tier_metrics(
    policy: Policy,
    stage: TransformerStage,
    data: TaskData,
    root: Path | None,
    *,
    net: SafetyNet | None = None,
) -> dict[str, Any]:
    """Urgent and reach-a-person shares per validation set, users by C-SSRS label, targets."""
    frames = FrameReader()
    net = net or SafetyNet(frames=frames)

    def run(texts: list[str]) -> list[Scored]:
        return score(stage, net, frames, texts)

    sets: dict[str, dict[str, float]] = {}
    for name, key in (
        ("r/SuicideWatch posts (SDCNL)", "suicidewatch"),
        ("everyday messages (GoEmotions validation)", "goemotions_validation"),
        ("calm posts (Dreaddit)", "not_stressed"),
        ("stressed posts (Dreaddit)", "stressed"),
        ("r/depression posts (SDCNL)", "depression"),
    ):
        sets[name] = rates(kinds(policy, run(list(data.slices[key]["text"]))))
    if data.test is not None:
        sets["everyday messages (GoEmotions test)"] = rates(
            kinds(policy, run(list(data.test["text"])))
        )
    sw = list(data.slices["suicidewatch"]["text"])
    obfuscated = {
        style: rates(kinds(policy, run([obfuscate(t, style) for t in sw])))["reach_person"]
        for style in STYLES
    }
    for check in check_sets():
        sets[check.name] = rates(kinds(policy, run(check.texts)))
    users, cssrs, held_out = _user_metrics(policy, run, root)
    return {
        "sets": sets,
        "users": users,
        "auc_at_risk_vs_supportive": cssrs,
        "users_held_out": held_out,
        "suicidewatch_obfuscated_reach_person": obfuscated,
        "targets": _targets(sets, users, cssrs),
    }


def _user_metrics(
    policy: Policy, run: Any, root: Path | None
) -> tuple[dict[str, dict[str, float]], float, dict[str, float]]:
    """Per C-SSRS label (and at risk together): users urgent and reaching a person.

    Also the figures on the held-out half of the users alone, the half no recipe trains on
    (``supportive_weight`` uses the other): the ones to read for a model trained on them.
    """
    people = load_cssrs(root)
    units = [u.id for u in people for _ in u.posts]
    scored = run([p for u in people for p in u.posts])
    tier = by_user(units, kinds(policy, scored))
    label = {u.id: u.label for u in people}
    out = {}
    for name, chosen in [(lab, (lab,)) for lab in LABELS] + [("at risk", AT_RISK)]:
        found = [t for user, t in tier.items() if label[user] in chosen]
        out[name] = rates(found) | {"users": len(found)}
    positive = {u.id: u.at_risk for u in people if u.at_risk or u.label == "Supportive"}
    _, held_out = split_users(people)
    kept = {u.id for u in held_out}
    inside = [i for i, user in enumerate(units) if user in kept]

    def urgent(chosen: tuple[str, ...]) -> float:
        return rates([t for user, t in tier.items() if user in kept and label[user] in chosen])[
            "urgent"
        ]

    held = {
        "users": len(kept),
        "auc_at_risk_vs_supportive": user_auc(
            [units[i] for i in inside],
            [scored[i] for i in inside],
            {u: y for u, y in positive.items() if u in kept},
        ),
        "at_risk_urgent": urgent(AT_RISK),
        "supportive_urgent": urgent(("Supportive",)),
        "indicator_urgent": urgent(("Indicator",)),
    }
    return out, user_auc(units, scored, positive), held


def _targets(
    sets: dict[str, dict[str, float]], users: dict[str, dict[str, float]], auc: float
) -> dict[str, dict[str, Any]]:
    checks = ("checks: crisis", "checks: implicit")
    kind_checks = ("checks: recovery", "checks: topic")

    def mean(names: tuple[str, ...]) -> float:
        return round(float(np.mean([sets[n]["urgent"] for n in names])), 4)

    found = {
        "C-SSRS at-risk users reaching a person": users["at risk"]["reach_person"],
        "C-SSRS at-risk users urgent": users["at risk"]["urgent"],
        "C-SSRS Supportive users urgent": users["Supportive"]["urgent"],
        "C-SSRS Indicator users urgent": users["Indicator"]["urgent"],
        "AUC at-risk vs Supportive users": auc,
        "everyday messages urgent (GoEmotions validation)": sets[
            "everyday messages (GoEmotions validation)"
        ]["urgent"],
        "calm posts urgent (Dreaddit)": sets["calm posts (Dreaddit)"]["urgent"],
        "crisis and implicit checks urgent": mean(checks),
        "attempts in progress urgent": sets["checks: attempts"]["urgent"],
        "recovery and topic checks urgent": mean(kind_checks),
        "r/SuicideWatch posts reaching a person": sets["r/SuicideWatch posts (SDCNL)"][
            "reach_person"
        ],
    }
    return {
        name: {
            "value": value,
            "target": f"{TARGETS[name][0]} {TARGETS[name][1]}",
            "met": value >= TARGETS[name][1]
            if TARGETS[name][0] == ">="
            else value <= TARGETS[name][1],
        }
        for name, value in found.items()
    }


def calibration_metrics(stage: TransformerStage, data: TaskData) -> dict[str, Any]:
    """The card's calibrator and its reliability on the validation data it was fit on."""
    from training.evaluate import CALIBRATION_MAX_PER_SLICE, CALIBRATION_NEGATIVES

    calibration = stage.card.calibration
    if calibration is None:
        return {"calibrated": False}
    pos = list(data.slices["suicidewatch"]["text"])
    neg = [
        t
        for name in CALIBRATION_NEGATIVES
        for t in data.slices[name]["text"][:CALIBRATION_MAX_PER_SLICE]
    ]
    risk = np.array([r.scores[CRISIS] for r in stage.predict(pos + neg)])
    labels = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    in_sample, table = reliability(risk, labels)
    return {
        "calibrated": True,
        "method": calibration.method,
        "slope": round(calibration.slope, 4),
        "intercept": round(calibration.intercept, 4),
        "ece_out_of_fold": calibration.ece,
        "ece_in_sample": round(in_sample, 4),
        "fitted_on": calibration.fitted_on,
        "bins": [
            {"mean_risk": round(m, 4), "share_crisis": round(o, 4), "weight": round(w, 4)}
            for m, o, w in table
        ],
    }


def reliability_plot(calibration: dict[str, Any], path: Path) -> None:
    """Mean calibrated risk against the share of crisis examples, per bin (classes balanced)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    bins = calibration["bins"]
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect")
    ax.plot(
        [b["mean_risk"] for b in bins],
        [b["share_crisis"] for b in bins],
        marker="o",
        label=f"stage one (ECE {calibration['ece_out_of_fold']}, out of fold)",
    )
    ax.set_xlabel("calibrated risk")
    ax.set_ylabel("share of crisis examples (classes weighted equally)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def to_markdown(policy: Policy, tiers: dict[str, Any], calibration: dict[str, Any]) -> str:
    """The tiers section of the crisis report."""
    held = tiers["users_held_out"]
    lines = [
        f"## Risk tiers under policy {policy.version} (urgent from calibrated risk "
        f"{policy.risk.urgent_at}, frames {'on' if policy.risk.frames else 'off'})",
        "",
        "| figure (validation) | value | target | met |",
        "|---|---|---|---|",
    ]
    for name, t in tiers["targets"].items():
        lines.append(f"| {name} | {t['value']} | {t['target']} | {'yes' if t['met'] else 'no'} |")
    lines += ["", "| traffic | urgent | reaches a person |", "|---|---|---|"]
    for name, r in tiers["sets"].items():
        lines.append(f"| {name} | {r['urgent']} | {r['reach_person']} |")
    lines += ["", "| C-SSRS users (psychiatrist labels) | users | urgent | reach a person |"]
    lines += ["|---|---|---|---|"]
    for name, r in tiers["users"].items():
        lines.append(f"| {name} | {r['users']} | {r['urgent']} | {r['reach_person']} |")
    lines += [
        "",
        f"AUC of at-risk against Supportive users (each user's highest risk): "
        f"{tiers['auc_at_risk_vs_supportive']}. r/SuicideWatch posts reaching a person with "
        f"obfuscated words: {tiers['suicidewatch_obfuscated_reach_person']}.",
        "",
        f"The held-out half of the users alone ({held['users']}, never trained on): AUC "
        f"{held['auc_at_risk_vs_supportive']}; urgent: at risk {held['at_risk_urgent']}, "
        f"Supportive {held['supportive_urgent']}, Indicator {held['indicator_urgent']}.",
        "",
    ]
    if calibration.get("calibrated"):
        lines += [
            "## Calibration",
            "",
            f"Sigmoid on the logit (slope {calibration['slope']}, intercept "
            f"{calibration['intercept']}), fit on {calibration['fitted_on']} with the classes "
            f"weighted equally. ECE {calibration['ece_out_of_fold']} out of fold, "
            f"{calibration['ece_in_sample']} in sample: `reliability.png`.",
            "",
        ]
    return "\n".join(lines) + "\n"
