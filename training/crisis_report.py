"""Stage one's crisis report: metrics, plots and Markdown, each from the one before.

``crisis_metrics`` scores the validation slices and the checks; ``misses`` and
``false_alarms`` pick the examples a reader should see; ``pr_curve_plot`` and
``crisis_markdown`` render them. Risk tiers and calibration come from ``risk_report``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.metrics import precision_recall_curve

from policies.loader import load_policy
from policies.schema import Policy
from stages.labels import CRISIS, DEFAULT_CRISIS_THRESHOLD
from stages.safety_net import SafetyNet
from stages.transformer import TransformerStage
from training.evaluate import auc_against, crisis_scores, latency, long_post_comparison
from training.obfuscate import STYLES, obfuscate
from training.plots import figure, save
from training.risk_report import (
    calibration_metrics,
    reliability_plot,
    tier_metrics,
)
from training.risk_report import to_markdown as risk_markdown
from training.tasks import TaskData
from training.thresholds import DEFAULT_TARGET_RECALL


def flagged_with_net(
    texts: list[str], scores: np.ndarray, threshold: float, net: SafetyNet
) -> np.ndarray:
    """Stage one passed its threshold or the safety net fired, per text."""
    return (scores >= threshold) | np.array([bool(net.matches(t)) for t in texts], dtype=bool)


def short_message_checks(
    stage: TransformerStage, threshold: float, net: SafetyNet
) -> dict[str, dict[str, float]]:
    """Share flagged of the held-out short messages (training/crisis_checks.yaml)."""
    checks = yaml.safe_load((Path(__file__).parent / "crisis_checks.yaml").read_text())
    out = {}
    for kind in ("crisis", "implicit", "figurative", "everyday"):
        texts = list(checks[kind])
        scores = crisis_scores(stage, texts)
        model = scores >= threshold
        with_net = flagged_with_net(texts, scores, threshold, net)
        out[kind] = {
            "messages": len(texts),
            "flagged_model": round(float(model.mean()), 4),
            "flagged_with_safety_net": round(float(with_net.mean()), 4),
        }
    return out


# Death, suicide or self-harm named outright: how the report sorts misses and false alarms.
_DEATH_NAMED = re.compile(
    r"\b(suicid\w*|kill(ing)? (my|him|her|them)sel(f|ves)|off (my|him|her)self|end(ing)? it|"
    r"overdos\w*|die[ds]?|dying|dead|death)\b",
    re.IGNORECASE,
)


def auc_by_crisis_language(
    sw_scores: np.ndarray, dep_texts: list[str], dep_scores: np.ndarray, net: SafetyNet
) -> dict[str, float]:
    """SuicideWatch vs depression AUC, split by depression posts the safety net fires on.

    The labels are the subreddit: a depression post that says "i want to kill myself" is a
    negative. A crisis detector ranks those posts with the SuicideWatch ones, so the overall
    AUC is held near ``1 - share / 2`` however well it separates the rest (the ceiling below:
    the rest separated perfectly, posts with crisis language at chance).
    """
    explicit = np.array([bool(net.matches(t)) for t in dep_texts], dtype=bool)
    share = float(explicit.mean())

    def auc(neg: np.ndarray) -> float:
        return auc_against(sw_scores, neg) if len(neg) else float("nan")

    return {
        "share_with_crisis_language": round(share, 4),
        "roc_auc_vs_depression_with_crisis_language": auc(dep_scores[explicit]),
        "roc_auc_vs_depression_without_crisis_language": auc(dep_scores[~explicit]),
        "roc_auc_ceiling_at_chance_on_crisis_language": round(1 - share / 2, 4),
    }


def _names_death(text: str) -> bool:
    """Whether a text names death, suicide or self-harm outright."""
    return _DEATH_NAMED.search(text) is not None


def _opening(text: str, chars: int = 140) -> str:
    return text[:chars].replace("\n", " ").replace("|", "/")


def _depression_section(split: dict[str, float]) -> str:
    return (
        "## SuicideWatch vs depression: what the subreddit labels allow\n\n"
        f"The safety net fires on {split['share_with_crisis_language']:.0%} of the validation "
        "r/depression posts: they state suicidal intent, a plan or means, and the line must "
        "see them, yet the labels count them as negatives. A crisis detector ranks them with "
        "the r/SuicideWatch posts: a scorer that separated every other depression post "
        "perfectly and ranked these at chance would reach an AUC of "
        f"{split['roc_auc_ceiling_at_chance_on_crisis_language']}.\n\n"
        "| depression posts | ROC AUC SuicideWatch vs them |\n|---|---|\n"
        f"| with crisis language (safety net) | "
        f"{split['roc_auc_vs_depression_with_crisis_language']} |\n"
        f"| without | {split['roc_auc_vs_depression_without_crisis_language']} |\n"
        f"| ceiling, at chance on those with crisis language | "
        f"{split['roc_auc_ceiling_at_chance_on_crisis_language']} |\n\n"
    )


def crisis_metrics(
    stage: TransformerStage, data: TaskData, net: SafetyNet
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Recall, flag rates, AUC, obfuscation, checks, long posts; and every slice's scores."""
    threshold = stage.card.thresholds.get(CRISIS, DEFAULT_CRISIS_THRESHOLD)
    texts = {name: list(ds["text"]) for name, ds in data.slices.items()}
    texts["goemotions_test"] = list(data.test["text"]) if data.test is not None else []
    scores = {name: crisis_scores(stage, t) for name, t in texts.items()}
    sw = texts["suicidewatch"]
    obfuscated = {}
    for style in STYLES:
        variant = [obfuscate(t, style) for t in sw]
        flags = flagged_with_net(variant, crisis_scores(stage, variant), threshold, net)
        obfuscated[style] = round(float(flags.mean()), 4)

    def rate(name: str) -> float:
        return round(float((scores[name] >= threshold).mean()), 4)

    metrics: dict[str, Any] = {
        "threshold": threshold,
        "recall_suicidewatch_validation_model": rate("suicidewatch"),
        "recall_suicidewatch_validation_with_safety_net": round(
            float(flagged_with_net(sw, scores["suicidewatch"], threshold, net).mean()), 4
        ),
        "flag_rate_goemotions_test": rate("goemotions_test"),
        "flag_rate_goemotions_test_with_safety_net": round(
            float(
                flagged_with_net(
                    texts["goemotions_test"], scores["goemotions_test"], threshold, net
                ).mean()
            ),
            4,
        )
        if texts["goemotions_test"]
        else None,
        "flag_rate_not_stressed_validation": rate("not_stressed"),
        "flag_rate_stressed_validation": rate("stressed"),
        "flag_rate_depression_validation": rate("depression"),
        "flag_rate_goemotions_validation": rate("goemotions_validation"),
        "roc_auc_suicidewatch_vs_depression_validation": auc_against(
            scores["suicidewatch"], scores["depression"]
        ),
        "depression_posts_by_crisis_language": auc_by_crisis_language(
            scores["suicidewatch"], texts["depression"], scores["depression"], net
        ),
        "short_message_checks": short_message_checks(stage, threshold, net),
        "recall_obfuscated_with_safety_net": obfuscated,
        "long_posts": long_post_comparison(
            stage,
            {k: texts[k] for k in ("suicidewatch", "depression", "stressed", "not_stressed")},
            target_recall=DEFAULT_TARGET_RECALL,
        ),
        "examples": {name: len(t) for name, t in texts.items()},
        "latency": latency(stage, sw[:50] + texts["goemotions_validation"][:50]),
        "base_model": stage.card.base_model,
        "card_metrics": stage.card.metrics,
    }
    return metrics, scores


def misses(
    texts: list[str], scores: np.ndarray, threshold: float, net: SafetyNet
) -> list[tuple[float, str]]:
    """r/SuicideWatch posts neither stage one nor the net flags, lowest score first."""
    flags = flagged_with_net(texts, scores, threshold, net)
    return sorted((float(scores[i]), texts[i]) for i in np.nonzero(~flags)[0])


def false_alarms(
    texts: list[str], scores: np.ndarray, threshold: float
) -> tuple[list[tuple[float, str]], float]:
    """Negatives stage one flags, highest score first, and the share naming death."""
    hits = sorted(
        ((float(x), t) for x, t in zip(scores, texts, strict=True) if x >= threshold),
        reverse=True,
    )
    return hits, sum(_names_death(t) for _, t in hits) / max(len(hits), 1)


def pr_curve_plot(
    scores: dict[str, np.ndarray], recall: float, threshold: float, path: Path
) -> None:
    """Precision against recall of r/SuicideWatch posts over every validation negative."""
    sw = scores["suicidewatch"]
    neg = np.r_[
        scores["depression"],
        scores["stressed"],
        scores["not_stressed"],
        scores["goemotions_validation"],
    ]
    prec, rec, _ = precision_recall_curve(
        np.r_[np.ones(len(sw)), np.zeros(len(neg))], np.r_[sw, neg]
    )
    fig, ax = figure((6, 5))
    ax.plot(rec, prec)
    ax.axvline(recall, color="r", linestyle="--", label=f"threshold {threshold:.3f}")
    ax.set_xlabel("recall (r/SuicideWatch validation)")
    ax.set_ylabel("precision (vs all validation negatives)")
    ax.legend()
    save(fig, path)


def _kind(text: str) -> str:
    if len(text.split()) < 40:
        return "short post"
    return "explicit wording, long post" if _names_death(text) else "implicit (no crisis words)"


def crisis_markdown(
    name: str,
    metrics: dict[str, Any],
    missed: list[tuple[float, str]],
    alarms: list[tuple[str, list[tuple[float, str]], float]],
    risk_section: str,
) -> str:
    """The report's ``summary.md``."""
    figures = "".join(
        f"| {k} | {v} |\n"
        for k, v in metrics.items()
        if not isinstance(v, dict) and k != "base_model"
    )
    checks = "".join(
        f"| {k} ({v['messages']}) | {v['flagged_model']} | {v['flagged_with_safety_net']} |\n"
        for k, v in metrics["short_message_checks"].items()
    )
    long_posts = "".join(
        f"| {k} | {v['threshold']} | {v['recall_suicidewatch']} | "
        f"{v['flag_rate_not_stressed']} | {v['flag_rate_stressed']} | "
        f"{v['flag_rate_depression']} | {v['roc_auc_suicidewatch_vs_depression']} |\n"
        for k, v in metrics["long_posts"].items()
    )
    missed_rows = "\n".join(f"| {_kind(t)} | {s:.3f} | {_opening(t)} |" for s, t in missed[:12])
    alarm_sections = "\n".join(
        f"{label}: {len(hits)} flagged by the model, {share:.0%} of them name death, "
        "suicide or self-harm.\n\n| score | names death | opening |\n|---|---|---|\n"
        + "".join(f"| {x:.3f} | {_names_death(t)} | {_opening(t)} |\n" for x, t in hits[:8])
        for label, hits, share in alarms
    )
    return (
        f"# Crisis report: {name}\n\n| figure | value |\n|---|---|\n{figures}"
        f"| obfuscated recall (model + safety net) | "
        f"{metrics['recall_obfuscated_with_safety_net']} |\n\n"
        + risk_section
        + "## Held-out short messages (training/crisis_checks.yaml)\n\n"
        "| messages | flagged, model | flagged, model + safety net |\n|---|---|---|\n"
        f"{checks}\n"
        "## Long posts: head+tail truncation vs windows with max pooling\n\n"
        "| strategy | threshold | recall SW | flag not-stressed | flag stressed | "
        "flag depression | AUC SW vs depression |\n|---|---|---|---|---|---|---|\n"
        f"{long_posts}\n"
        + _depression_section(metrics["depression_posts_by_crisis_language"])
        + "## Remaining misses (r/SuicideWatch validation posts not flagged)\n\n"
        f"| kind | score | opening |\n|---|---|---|\n{missed_rows}\n\n"
        "## False alarms: the highest-scored negatives flagged\n\n" + alarm_sections
    )


def crisis_report(
    model_dir: Path,
    data: TaskData,
    out: Path,
    *,
    root: Path | None = None,
    policy: Policy | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """Stage one's crisis report: recall, flag rates, AUC, obfuscation, misses by kind.

    Also its calibration, and (with the C-SSRS users under ``root``) its risk tiers under
    ``policy`` (the shipped one by default).
    """
    out.mkdir(parents=True, exist_ok=True)
    stage = TransformerStage("eval", model_dir, device=device, batch_size=64, backend="auto")
    policy = policy or load_policy()
    net = SafetyNet()
    metrics, scores = crisis_metrics(stage, data, net)
    threshold = metrics["threshold"]
    missed = misses(
        list(data.slices["suicidewatch"]["text"]), scores["suicidewatch"], threshold, net
    )
    alarms = []
    for key, label, texts in (
        ("not_stressed", "not-stressed validation posts", data.slices["not_stressed"]["text"]),
        ("goemotions_test", "GoEmotions test", data.test["text"] if data.test else []),
    ):
        hits, share = false_alarms(list(texts), scores[key], threshold)
        metrics[f"flagged_naming_death_{key}"] = round(share, 4)
        alarms.append((label, hits, share))
    metrics["misses"] = len(missed)
    metrics["calibration"] = calibration_metrics(stage, data)
    metrics["risk_tiers"] = tier_metrics(policy, stage, data, root)
    pr_curve_plot(
        scores, metrics["recall_suicidewatch_validation_model"], threshold, out / "pr_curve.png"
    )
    if metrics["calibration"]["calibrated"]:
        reliability_plot(metrics["calibration"], out / "reliability.png")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    risk_section = risk_markdown(policy, metrics["risk_tiers"], metrics["calibration"])
    (out / "summary.md").write_text(
        crisis_markdown(model_dir.name, metrics, missed, alarms, risk_section)
    )
    return metrics
