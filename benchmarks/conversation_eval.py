"""How conversation context (rules.rising_risk) changes what reaches a person, on validation data.

Conversations are built from validation splits only (never test):
- everyday: GoEmotions validation messages, shuffled, in conversations of 6 turns;
- SuicideWatch / depression: SDCNL validation posts, one sentence per turn (first 12);
- not stressed: Dreaddit validation segments judged not stressed, one sentence per turn.

Each turn is scored once by the safety net and stage one; then every setting of the
`conversation` policy block is replayed through the same functions `Triage` uses
(``ConversationMemory``, ``concern_signal``, and stage one on the joined window for
``read_together``). Reports, per setting: the share of turns escalated by context alone (extra
load on counselors) and the share of conversations reached at some turn (alone or by context).
Writes reports/conversation-context.json and .md.

    .venv/bin/python benchmarks/conversation_eval.py [--models models]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

from policies.context import concern_signal, join_turns, turn_risk
from policies.loader import load_policy
from policies.schema import ConversationSpec, Policy
from stages.attribution import sentence_spans
from stages.labels import CRISIS, DEFAULT_CRISIS_THRESHOLD
from stages.safety_net import SafetyNet, load_phrase_lists
from stages.transformer import TransformerStage
from training.data import data_dir, load_dreaddit, load_goemotions, load_sdcnl
from triage.conversation import ConversationMemory

SETTINGS = [
    {"concern": c, "min_concern_turns": m, "read_together": False}
    for c in (0.5, 0.75, 0.9)
    for m in (2, 3)
] + [{"concern": 0.75, "min_concern_turns": 3, "read_together": True}]
MAX_TURNS = 12


def conversations(root: Path | None, n_everyday: int) -> dict[str, list[list[str]]]:
    """Each kind of conversation as lists of turns."""
    goemotions = load_goemotions(root)["validation"]["text"]
    everyday = random.Random(13).sample(list(goemotions), n_everyday)
    sdcnl = load_sdcnl(root)["validation"]
    dreaddit = load_dreaddit(root)["validation"]

    def turns(text: str) -> list[str]:
        return [text[a:b] for a, b in sentence_spans(text)][:MAX_TURNS]

    labelled = list(zip(sdcnl["text"], sdcnl["is_suicide"], strict=True))
    posts = {
        "suicidewatch": [turns(t) for t, y in labelled if y == 1],
        "depression": [turns(t) for t, y in labelled if y == 0],
        "not_stressed": [
            turns(t) for t, y in zip(dreaddit["text"], dreaddit["label"], strict=True) if y == 0
        ],
    }
    return {
        "everyday": [everyday[i : i + 6] for i in range(0, len(everyday), 6)],
        **{k: [c for c in v if len(c) >= 2] for k, v in posts.items()},
    }


def replay(
    policy: Policy,
    stage: TransformerStage,
    convs: list[list[str]],
    risks: list[list[float | None]],
    flagged: list[list[bool]],
) -> dict[str, float]:
    """One setting over one kind of conversation."""
    spec = policy.conversation
    memory = ConversationMemory()
    turns = by_context = reached = 0
    together: list[tuple[int, str]] = []
    context_hit: set[int] = set()
    for c, (conv, conv_risks) in enumerate(zip(convs, risks, strict=True)):
        for t, (text, risk) in enumerate(zip(conv, conv_risks, strict=True)):
            earlier, turn = memory.record((None, str(c)), risk=risk, text=text, spec=spec, now=t)
            window = [*earlier, turn]
            turns += 1
            if flagged[c][t]:
                continue
            if concern_signal(spec, window) is not None:
                by_context += 1
                context_hit.add(c)
            elif spec.read_together and earlier:
                together.append((c, join_turns(window)))
    if together:
        scores = [r.scores.get(CRISIS, 0.0) for r in stage.predict([j for _, j in together])]
        threshold = stage.card.thresholds.get(CRISIS, DEFAULT_CRISIS_THRESHOLD)
        for (c, _), score in zip(together, scores, strict=True):
            if score >= threshold:
                by_context += 1
                context_hit.add(c)
    alone = {c for c, f in enumerate(flagged) if any(f)}
    reached = len(alone | context_hit)
    return {
        "turns": turns,
        "escalated_by_context_pct": round(100 * by_context / max(turns, 1), 2),
        "reached_alone_pct": round(100 * len(alone) / max(len(convs), 1), 1),
        "reached_with_context_pct": round(100 * reached / max(len(convs), 1), 1),
    }


def main() -> None:
    """Score every turn once, replay each setting, write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--everyday", type=int, default=1200)
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args()

    started = time.time()
    base = load_policy()
    stage = TransformerStage("crisis", str(args.models / "crisis"), device="cpu")
    net = SafetyNet(load_phrase_lists())
    results: dict[str, Any] = {"settings": SETTINGS, "kinds": {}}
    for kind, convs in conversations(data_dir(), args.everyday).items():
        flat = [t for conv in convs for t in conv]
        safety, crisis = net.predict(flat), stage.predict(flat)
        risks, flagged, i = [], [], 0
        for conv in convs:
            rows = range(i, i + len(conv))
            i += len(conv)
            risks.append([turn_risk(base, safety[k], crisis[k]) for k in rows])
            flagged.append([(risks[-1][k - rows.start] or 0.0) >= 1.0 for k in rows])
        results["kinds"][kind] = {"conversations": len(convs), "by_setting": []}
        for setting in SETTINGS:
            spec = ConversationSpec(**(base.conversation.model_dump() | setting))
            policy = base.model_copy(update={"conversation": spec})
            row = replay(policy, stage, convs, risks, flagged)
            results["kinds"][kind]["by_setting"].append(setting | row)
            print(kind, setting, row, flush=True)
    results["seconds"] = round(time.time() - started)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "conversation-context.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "conversation-context.md").write_text(markdown(results, args.models))
    print(markdown(results, args.models))


def markdown(results: dict[str, Any], models: Path) -> str:
    """The report as a Markdown table per kind of conversation."""
    lines = [
        "# Conversation context (rules.rising_risk) on validation conversations",
        "",
        f"Stage one: `{models / 'crisis'}`. Command: `.venv/bin/python "
        "benchmarks/conversation_eval.py`. Turns flagged alone (safety net or stage one) are "
        "counted once; *by context* counts turns below the threshold that the setting escalates.",
        "",
    ]
    for kind, data in results["kinds"].items():
        lines += [
            f"## {kind} ({data['conversations']} conversations)",
            "",
            "| concern | min turns | read together | turns escalated by context | "
            "conversations reached alone | with context |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['concern']} | {r['min_concern_turns']} | {r['read_together']} | "
            f"{r['escalated_by_context_pct']} % | {r['reached_alone_pct']} % | "
            f"{r['reached_with_context_pct']} % |"
            for r in data["by_setting"]
        ]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
