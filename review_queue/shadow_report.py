"""Shadow mode report: the live decisions beside a candidate's, read back from the audit log."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from review_queue.models import AuditRecord, Case


@dataclass
class ShadowReport:
    """How a shadow candidate would have routed the messages the live policy routed."""

    candidate: str
    messages: int = 0
    live_human: int = 0
    candidate_human: int = 0
    live_crisis: int = 0
    candidate_crisis: int = 0
    agreed: int = 0
    actions: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (action pairs as 'live -> candidate')."""
        out = dict(self.__dict__)
        out["actions"] = {f"{a} -> {b}": n for (a, b), n in self.actions.most_common()}
        return out


def shadow_report(
    session: Session, *, candidate: str | None = None, since: str | None = None, examples: int = 10
) -> ShadowReport:
    """Compare live and candidate decisions recorded since ``since`` (ISO-8601 UTC).

    ``candidate``: which shadow candidate (default: the most recent one in the audit log).
    Examples of disagreement put first the messages the candidate would have kept from a
    person (the costly direction), with the text only where the case kept it.
    """
    query = select(AuditRecord).where(AuditRecord.event == "decision")
    if since:
        query = query.where(col(AuditRecord.at) >= since)
    rows = [
        payload
        for record in session.exec(query.order_by(col(AuditRecord.seq)))
        if "shadow" in (payload := json.loads(record.payload))
    ]
    if candidate is None:
        candidate = rows[-1]["shadow"]["name"] if rows else "(none)"
    report = ShadowReport(candidate=candidate)
    disagreements = []
    for live in rows:
        shadow = live["shadow"]
        if shadow["name"] != candidate:
            continue
        report.messages += 1
        report.live_human += live["human"]
        report.candidate_human += shadow["human"]
        report.live_crisis += live["crisis"]
        report.candidate_crisis += shadow["crisis"]
        report.actions[(live["action"], shadow["action"])] += 1
        if live["action"] == shadow["action"]:
            report.agreed += 1
        else:
            disagreements.append((live, shadow))
    # Fewer humans first (what the candidate would miss), then the other direction.
    disagreements.sort(key=lambda pair: (pair[1]["human"] - pair[0]["human"], -pair[0]["crisis"]))
    texts = _stored_texts(session, [live.get("case_id") for live, _ in disagreements[:examples]])
    report.examples = [
        {
            "case_id": live.get("case_id"),
            "message_hmac": live["message_hmac"][:16],
            "text": texts.get(live.get("case_id") or ""),
            "live": {k: live[k] for k in ("action", "crisis_score", "support", "reasons")},
            "candidate": {k: shadow[k] for k in ("action", "crisis_score", "support", "reasons")},
        }
        for live, shadow in disagreements[:examples]
    ]
    return report


def _stored_texts(session: Session, case_ids: list[str | None]) -> dict[str, str]:
    ids = [c for c in case_ids if c]
    if not ids:
        return {}
    cases = session.exec(select(Case).where(col(Case.id).in_(ids)))
    return {c.id: c.message_text for c in cases if c.message_text is not None}


def to_markdown(report: ShadowReport) -> str:
    """The report for leads: counts, action changes, examples of disagreement."""
    n = max(report.messages, 1)

    def share(k: int) -> str:
        return f"{k} ({100 * k / n:.1f} %)"

    lines = [
        f"# Shadow report: candidate `{report.candidate}`",
        "",
        f"Messages routed with the candidate beside the live policy: {report.messages}.",
        "",
        "| | live | candidate | change |",
        "|---|---|---|---|",
        f"| to a person | {share(report.live_human)} | {share(report.candidate_human)} | "
        f"{report.candidate_human - report.live_human:+d} |",
        f"| crisis flagged | {share(report.live_crisis)} | {share(report.candidate_crisis)} | "
        f"{report.candidate_crisis - report.live_crisis:+d} |",
        f"| same action | {share(report.agreed)} | | |",
        "",
        "## Action changes (live -> candidate)",
        "",
        "| live | candidate | messages |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {k} |" for (a, b), k in report.actions.most_common() if a != b] or [
        "| (none) | | |"
    ]
    lines += ["", "## Disagreements (those the candidate would keep from a person first)", ""]
    for ex in report.examples:
        text = ex["text"] or f"(text not kept; hmac {ex['message_hmac']})"
        lines += [
            f"- {text!r}",
            f"  - live: {ex['live']['action']} ({', '.join(ex['live']['reasons'])})",
            f"  - candidate: {ex['candidate']['action']} ({', '.join(ex['candidate']['reasons'])})",
        ]
    if not report.examples:
        lines.append("(none)")
    return "\n".join(lines) + "\n"
