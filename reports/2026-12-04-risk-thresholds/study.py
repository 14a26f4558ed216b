"""Risk thresholds tuned on people whose risk psychiatrists rated, checked on the other half.

Reads the traffic `triage load-report` scored (the state folder's load sample: stage results,
no text), splits the C-SSRS users into the two halves of ``training.cssrs.split_users``, and
applies the shipped policy with each pair of ``risk.review_at`` / ``risk.urgent_at`` on a grid.
On the tune half it keeps the pairs that hold the floors below, and among them picks the one
that best separates at-risk users from Supportive and Indicator users at the urgent tier; the
report half and the other validation sets then say what that choice does.

    TRIAGE_DATA_DIR=../shared/data .venv/bin/python reports/2026-12-04-risk-thresholds/study.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policies.load import ScoredMessage, load_table
from policies.loader import default_policy_file, load_policy
from policies.schema import Policy
from training.cssrs import load_cssrs, split_users
from training.data import data_dir
from triage.load_report import LOAD_SAMPLE_FILE, read_sample

HERE = Path(__file__).resolve().parent
REVIEW_AT = [None, 0.05, 0.1, 0.12, 0.14, 0.15, 0.16, 0.17, 0.18, 0.19, 0.2, 0.3]
URGENT_AT = [0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97]
# What a choice may not give up, on the tune half and the validation sets.
FLOORS = {
    "at-risk reach": (">=", 0.99),
    "everyday urgent": ("<=", 0.005),
    "calm urgent": ("<=", 0.01),
    "r/SuicideWatch reach": (">=", 0.97),
}
GROUPS = {
    "at-risk": "C-SSRS at-risk users",
    "Supportive": "C-SSRS Supportive users",
    "Indicator": "C-SSRS Indicator users",
    "everyday": "everyday messages (GoEmotions)",
    "calm": "calm posts (Dreaddit)",
    "r/SuicideWatch": "r/SuicideWatch posts (SDCNL)",
}


def with_risk(policy: Policy, review_at: float | None, urgent_at: float) -> Policy:
    """The policy with other risk thresholds."""
    risk = policy.risk.model_copy(update={"review_at": review_at, "urgent_at": urgent_at})
    return policy.model_copy(update={"risk": risk})


def figures(policy: Policy, messages: list[ScoredMessage]) -> dict[str, float]:
    """Reach and urgent shares per group under ``policy``."""
    rows = {row.group: row for row in load_table(policy, messages)}
    out: dict[str, float] = {}
    for short, group in GROUPS.items():
        if group in rows:
            out[f"{short} reach"] = rows[group].reach_person
            out[f"{short} urgent"] = rows[group].reach_urgent
    for group, row in rows.items():
        if group not in GROUPS.values():
            out[f"{group} urgent"] = row.reach_urgent
    return out


def holds(f: dict[str, float]) -> bool:
    """Whether the figures keep every floor."""
    return all(
        f[name] >= bound if op == ">=" else f[name] <= bound for name, (op, bound) in FLOORS.items()
    )


def separation(f: dict[str, float]) -> float:
    """At-risk users urgent, less the mean of Supportive and Indicator users urgent."""
    return f["at-risk urgent"] - (f["Supportive urgent"] + f["Indicator urgent"]) / 2


def main() -> None:
    """Sweep the grid on the tune half; report the shipped and the chosen setting on both."""
    sample = read_sample(Path(".triage") / LOAD_SAMPLE_FILE)
    if not sample:
        raise SystemExit("no load sample: run `triage load-report` first")
    tune_users, report_users = split_users(load_cssrs(data_dir()))
    halves = {"tune": {u.id for u in tune_users}, "report": {u.id for u in report_users}}
    cssrs = {g for g in GROUPS.values() if g.startswith("C-SSRS")}

    def half(name: str) -> list[ScoredMessage]:
        return [m for m in sample if m.group not in cssrs or m.unit in halves[name]]

    base = load_policy(default_policy_file())
    grid = []
    for review_at in REVIEW_AT:
        for urgent_at in URGENT_AT:
            f = figures(with_risk(base, review_at, urgent_at), half("tune"))
            grid.append({"review_at": review_at, "urgent_at": urgent_at, "tune": f})
    allowed = [g for g in grid if holds(g["tune"])]
    chosen = max(allowed, key=lambda g: separation(g["tune"])) if allowed else None
    shipped = {"review_at": base.risk.review_at, "urgent_at": base.risk.urgent_at}
    result: dict[str, Any] = {"floors": FLOORS, "shipped": shipped, "grid": grid}
    for name, setting in (("shipped", shipped), ("chosen", chosen)):
        if setting is not None:
            policy = with_risk(base, setting["review_at"], setting["urgent_at"])
            result[name] = {
                "review_at": setting["review_at"],
                "urgent_at": setting["urgent_at"],
                "tune": figures(policy, half("tune")),
                "report": figures(policy, half("report")),
            }
    (HERE / "results.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result.get(k) for k in ("shipped", "chosen")}, indent=2))


if __name__ == "__main__":
    main()
