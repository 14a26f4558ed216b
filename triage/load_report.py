"""The load report for leads: what the models and a policy ask of counselors.

``score_sets`` runs the stages once over reference traffic (or a platform's sample); the
results are kept in the state folder (``LOAD_SAMPLE_FILE``), without text, so the console can
apply an edited policy to them before it is saved. ``write_report`` writes the table, a bar
plot and the figures as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from policies.load import GroupLoad, ScoredMessage
from policies.schema import Policy
from triage.facade import Triage

LOAD_SAMPLE_FILE = "load_sample.jsonl"
BATCH = 256


def score_texts(
    triage: Triage,
    group: str,
    texts: Sequence[str],
    *,
    at_risk: bool | None = None,
    units: Sequence[str] | None = None,
) -> list[ScoredMessage]:
    """Every stage's result for each non-empty text of one group."""
    keep = [k for k, t in enumerate(texts) if t.strip()]
    out = []
    for start in range(0, len(keep), BATCH):
        chunk = keep[start : start + BATCH]
        results = triage.stage_results([texts[k] for k in chunk])
        for j, k in enumerate(chunk):
            out.append(
                ScoredMessage(
                    group=group,
                    unit=units[k] if units is not None else None,
                    at_risk=at_risk,
                    safety=results.safety[j],
                    crisis=results.crisis[j],
                    support=results.support[j],
                    language=results.language[j],
                    length=len(texts[k]),
                )
            )
    return out


def save_sample(messages: Iterable[ScoredMessage], path: Path) -> None:
    """Write scored messages as JSON lines: stage results without the text of any sentence."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for message in messages:
            evidence = tuple(e.model_copy(update={"phrase": ""}) for e in message.crisis.evidence)
            crisis = message.crisis.model_copy(update={"evidence": evidence})
            f.write(message.model_copy(update={"crisis": crisis}).model_dump_json() + "\n")


def read_sample(path: Path) -> list[ScoredMessage]:
    """Scored messages written by ``save_sample`` (empty when there is none)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        return [ScoredMessage.model_validate_json(line) for line in f if line.strip()]


def read_jsonl_sample(path: Path) -> tuple[list[str], list[bool | None]]:
    """A platform's sample: one JSON object per line with ``text`` and optionally ``at_risk``."""
    texts, at_risk = [], []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError(f"{path}:{number}: expected an object with a string 'text'")
            texts.append(row["text"])
            value = row.get("at_risk")
            if value is not None and not isinstance(value, bool):
                raise ValueError(f"{path}:{number}: 'at_risk' must be true, false or absent")
            at_risk.append(value)
    return texts, at_risk


def to_markdown(policy: Policy, table: list[GroupLoad]) -> str:
    """The load table as Markdown."""
    lines = [
        f"# Load report: policy {policy.version}",
        "",
        "Cases per 10,000 messages (or people, for the C-SSRS users) by tier, and the share "
        "that reaches a person. Rows marked at risk should reach one; the others should not.",
        "",
        "| traffic | at risk | units | urgent /10k | review /10k | reach a person | urgent |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table:
        risk = {True: "yes", False: "no", None: "mixed"}[row.at_risk]
        lines.append(
            f"| {row.group} | {risk} | {row.units} | {row.per_10k['urgent']:.0f} | "
            f"{row.per_10k['review']:.0f} | {row.reach_person:.3f} | {row.reach_urgent:.3f} |"
        )
    return "\n".join(lines) + "\n"


def plot(table: list[GroupLoad], path: Path, title: str) -> None:
    """Stacked bars: the share of each group reaching a person, urgent and review."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [row.group for row in table]
    urgent = [row.reach_urgent for row in table]
    review = [row.reach_person - row.reach_urgent for row in table]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(names) + 1.5))
    ax.barh(names, urgent, color="#c0392b", label="urgent")
    ax.barh(names, review, left=urgent, color="#f0b27a", label="review")
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share reaching a person")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(policy: Policy, table: list[GroupLoad], out_dir: Path) -> None:
    """``summary.md``, ``metrics.json`` and ``load.png`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.md").write_text(to_markdown(policy, table), encoding="utf-8")
    (out_dir / "metrics.json").write_text(
        json.dumps(
            {"policy": policy.version, "groups": [row.model_dump() for row in table]}, indent=2
        )
        + "\n",
        encoding="utf-8",
    )
    plot(table, out_dir / "load.png", f"Load by tier, policy {policy.version}")
