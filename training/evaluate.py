"""Scoring, threshold tuning and evaluation reports for stage directories."""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
)

from policies.loader import load_policy
from policies.schema import Policy
from stages.head import HeadStage, load_model_stage
from stages.labels import CRISIS, DEFAULT_CRISIS_THRESHOLD
from stages.model_dir import StageCard
from stages.safety_net import SafetyNet
from stages.transformer import TransformerStage
from training.calibrate import fit_calibration
from training.obfuscate import STYLES, obfuscate
from training.risk_report import (
    calibration_metrics,
    reliability_plot,
    tier_metrics,
)
from training.risk_report import to_markdown as risk_markdown
from training.tasks import TaskData
from training.thresholds import (
    DEFAULT_TARGET_PRECISION,
    DEFAULT_TARGET_RECALL,
    crisis_threshold,
    support_thresholds,
)


def load_stage(
    model_dir: Path, device: str = "auto", batch_size: int = 64
) -> TransformerStage | HeadStage:
    """The stage for a model directory (a whole model or a head on another's encoder)."""
    return load_model_stage("eval", model_dir, device=device, batch_size=batch_size)


def probabilities(stage: TransformerStage | HeadStage, texts: list[str]) -> np.ndarray:
    """Class probabilities, one row per text."""
    return np.array(stage.probabilities(texts)) if texts else np.zeros((0, len(stage.card.labels)))


def crisis_scores(
    stage: TransformerStage | HeadStage, texts: list[str], max_windows: int | None = None
) -> np.ndarray:
    """Stage one's crisis probability per text."""
    if not texts:
        return np.zeros(0)
    rows = np.array(stage.probabilities(texts, max_windows=max_windows))
    return rows[:, stage.card.labels.index(CRISIS)]


def auc_against(sw_scores: np.ndarray, negative_scores: np.ndarray) -> float:
    """ROC AUC of r/SuicideWatch scores against negatives' scores, rounded to 4 places."""
    labels = np.r_[np.ones(len(sw_scores)), np.zeros(len(negative_scores))]
    return round(float(roc_auc_score(labels, np.r_[sw_scores, negative_scores])), 4)


def long_post_comparison(
    stage: TransformerStage, slices: dict[str, list[str]], target_recall: float, windows: int = 8
) -> dict[str, dict[str, float]]:
    """Head+tail truncation vs overlapping windows with max pooling.

    Each strategy gets its own threshold, tuned to ``target_recall`` on validation
    r/SuicideWatch posts, so the flag rates compare at equal recall.
    """
    out = {}
    for name, n in (("head_tail", 1), (f"windows_max_{windows}", windows)):
        sc = {k: crisis_scores(stage, v, max_windows=n) for k, v in slices.items()}
        sw = sc["suicidewatch"]
        t = crisis_threshold(sw, np.ones_like(sw), target_recall)
        out[name] = {
            "threshold": round(t, 4),
            "recall_suicidewatch": round(float((sw >= t).mean()), 4),
            "flag_rate_not_stressed": round(float((sc["not_stressed"] >= t).mean()), 4),
            "flag_rate_stressed": round(float((sc["stressed"] >= t).mean()), 4),
            "flag_rate_depression": round(float((sc["depression"] >= t).mean()), 4),
            "roc_auc_suicidewatch_vs_depression": auc_against(sw, sc["depression"]),
        }
    return out


def tune(
    model_dir: Path,
    data: TaskData,
    *,
    target_recall: float = DEFAULT_TARGET_RECALL,
    target_precision: float = DEFAULT_TARGET_PRECISION,
    device: str = "auto",
) -> dict[str, float]:
    """Tune thresholds on validation data and write them into the model's card."""
    stage = load_stage(model_dir, device)
    card = StageCard.load(model_dir)
    if card.task == "crisis":
        positives = data.slices["suicidewatch"]["text"]
        scores = crisis_scores(stage, positives)
        thresholds = {CRISIS: crisis_threshold(scores, np.ones_like(scores), target_recall)}
        card.calibration = calibrate(stage, data, scores)
    else:
        probs = probabilities(stage, data.validation["text"])
        thresholds = support_thresholds(
            probs, np.array(data.validation["label"]), card.labels, target_precision
        )
    card.thresholds = thresholds  # unrounded: rounding up would drop the boundary positive
    card.save(model_dir)
    return card.thresholds


# Negatives the calibrator is fit on: everyday, calm and stressed text, not r/depression (a
# third of its posts state suicidal intent, reports/crisis-demo).
CALIBRATION_NEGATIVES = ("goemotions_validation", "not_stressed", "stressed")
CALIBRATION_MAX_PER_SLICE = 2000


def calibrate(stage: TransformerStage | HeadStage, data: TaskData, sw_scores: np.ndarray) -> Any:
    """Stage one's calibrator, fit on validation r/SuicideWatch posts against negatives."""
    negatives = [
        t
        for name in CALIBRATION_NEGATIVES
        for t in data.slices[name]["text"][:CALIBRATION_MAX_PER_SLICE]
    ]
    scores = np.r_[sw_scores, crisis_scores(stage, negatives)]
    labels = np.r_[np.ones(len(sw_scores)), np.zeros(len(negatives))]
    described = ", ".join(CALIBRATION_NEGATIVES)
    return fit_calibration(
        scores, labels, fitted_on=f"validation r/SuicideWatch posts against {described}"
    )


def expected_calibration_error(
    probs: np.ndarray, gold: np.ndarray, bins: int = 15
) -> tuple[float, list[tuple[float, float, int]]]:
    """ECE of the top-class probability, with (confidence, accuracy, count) per bin."""
    conf, correct = probs.max(1), probs.argmax(1) == gold
    edges = np.linspace(0, 1, bins + 1)
    ece, table = 0.0, []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (conf > lo) & (conf <= hi)
        if mask.any():
            ece += mask.mean() * abs(conf[mask].mean() - correct[mask].mean())
            table.append((float(conf[mask].mean()), float(correct[mask].mean()), int(mask.sum())))
    return float(ece), table


def latency(
    stage: TransformerStage | HeadStage, texts: list[str], n: int = 100
) -> dict[str, float | str]:
    """Median per-message time at batch 1 and throughput at batch 32 (this machine).

    A head is timed with its encoder's pass, as if it ran alone (in routing it shares it).
    """
    sample = (texts * (n // max(len(texts), 1) + 1))[:n]
    forget = stage.encoder.forget if isinstance(stage, HeadStage) else (lambda: None)
    stage.probabilities(sample[:5])
    times = []
    for t in sample:
        forget()
        start = time.perf_counter()
        stage.probabilities([t])
        times.append(time.perf_counter() - start)
    forget()
    start = time.perf_counter()
    for i in range(0, len(sample), 32):
        stage.probabilities(sample[i : i + 32])
    batched = time.perf_counter() - start
    return {
        "batch1_median_ms": round(statistics.median(times) * 1000, 2),
        "batch1_p95_ms": round(float(np.percentile(times, 95)) * 1000, 2),
        "batch32_msgs_per_s": round(len(sample) / batched, 1),
        "device": str(stage.device),
    }


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def classification_report(
    model_dir: Path,
    texts: list[str],
    gold: np.ndarray,
    out: Path,
    *,
    split: str,
    device: str = "auto",
) -> dict[str, Any]:
    """Metrics JSON, Markdown summary, confusion matrix, PR curves, reliability plot."""
    out.mkdir(parents=True, exist_ok=True)
    stage = load_stage(model_dir, device)
    labels = stage.card.labels
    probs = probabilities(stage, texts)
    pred = probs.argmax(1)
    p, r, f, support = precision_recall_fscore_support(
        gold, pred, labels=range(len(labels)), zero_division=0
    )
    ece, bins = expected_calibration_error(probs, gold)
    thresholds = np.array([stage.card.thresholds.get(name, 0.0) for name in labels])
    confident = probs.max(1) >= thresholds[pred]
    cm = confusion_matrix(gold, pred, labels=range(len(labels)))
    pairs = sorted(
        (
            (int(cm[i, j]), labels[i], labels[j])
            for i in range(len(labels))
            for j in range(len(labels))
            if i != j
        ),
        reverse=True,
    )[:5]
    examples = {
        f"{g}->{q}": [
            texts[k][:160]
            for k in np.nonzero((gold == labels.index(g)) & (pred == labels.index(q)))[0][:3]
        ]
        for _, g, q in pairs
    }
    metrics: dict[str, Any] = {
        "split": split,
        "examples": len(texts),
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
        "macro_f1": round(float(f1_score(gold, pred, average="macro")), 4),
        "weighted_f1": round(float(f1_score(gold, pred, average="weighted")), 4),
        "per_class": {
            name: {
                "precision": round(float(p[k]), 4),
                "recall": round(float(r[k]), 4),
                "f1": round(float(f[k]), 4),
                "support": int(support[k]),
            }
            for k, name in enumerate(labels)
        },
        "ece": round(ece, 4),
        "thresholds": stage.card.thresholds,
        "confident_share": round(float(confident.mean()), 4),
        "accuracy_when_confident": round(float((pred == gold)[confident].mean()), 4)
        if confident.any()
        else None,
        "top_confusions": [
            {"gold": g, "predicted": q, "count": c, "examples": examples[f"{g}->{q}"]}
            for c, g, q in pairs
        ],
        "latency": latency(stage, texts[:200]),
        "base_model": stage.card.base_model,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))

    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    _save(fig, out / "confusion_matrix.png")

    fig, ax = plt.subplots(figsize=(6, 5))
    for k, name in enumerate(labels):
        prec, rec, _ = precision_recall_curve(gold == k, probs[:, k])
        ax.plot(rec, prec, label=name)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.legend(fontsize=7)
    _save(fig, out / "pr_curve.png")

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k--", linewidth=1)
    ax.plot([b[0] for b in bins], [b[1] for b in bins], "o-")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"reliability (ECE {ece:.3f})")
    _save(fig, out / "reliability.png")

    rows = "\n".join(
        f"| {n} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
        for n, v in metrics["per_class"].items()
    )
    conf_rows = "\n".join(
        f"| {c['gold']} | {c['predicted']} | {c['count']} | {(c['examples'] or [''])[0][:90]} |"
        for c in metrics["top_confusions"]
    )
    (out / "summary.md").write_text(
        f"# {model_dir.name} on {split}\n\n"
        f"{len(texts)} examples. Accuracy {metrics['accuracy']:.4f}, macro F1 "
        f"{metrics['macro_f1']:.4f}, weighted F1 {metrics['weighted_f1']:.4f}, ECE {ece:.4f}.\n"
        f"With the tuned thresholds {metrics['confident_share']:.1%} of messages are confident "
        f"(accuracy there {metrics['accuracy_when_confident']}).\n\n"
        f"| class | precision | recall | F1 | support |\n|---|---|---|---|---|\n{rows}\n\n"
        f"## Top confusions\n\n| gold | predicted | count | example |\n|---|---|---|---|\n"
        f"{conf_rows}\n\nLatency on this machine: {metrics['latency']}\n"
    )
    return metrics


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
    stage = TransformerStage("eval", model_dir, device=device, batch_size=64)
    policy = policy or load_policy()
    calibration = calibration_metrics(stage, data)
    tiers = tier_metrics(policy, stage, data, root)
    if calibration["calibrated"]:
        reliability_plot(calibration, out / "reliability.png")
    net = SafetyNet()
    threshold = stage.card.thresholds.get(CRISIS, DEFAULT_CRISIS_THRESHOLD)
    s = {name: ds["text"] for name, ds in data.slices.items()}
    scores = {name: crisis_scores(stage, texts) for name, texts in s.items()}
    test_texts = data.test["text"] if data.test is not None else []
    test_scores = crisis_scores(stage, test_texts)

    def flagged(texts: list[str], sc: np.ndarray) -> np.ndarray:
        return flagged_with_net(texts, sc, threshold, net)

    sw = s["suicidewatch"]
    auc = auc_against(scores["suicidewatch"], scores["depression"])
    obfuscated = {}
    for style in STYLES:
        texts = [obfuscate(t, style) for t in sw]
        obfuscated[style] = round(float(flagged(texts, crisis_scores(stage, texts)).mean()), 4)
    plain_flags = flagged(sw, scores["suicidewatch"])
    misses = [(float(scores["suicidewatch"][i]), sw[i]) for i in np.nonzero(~plain_flags)[0]]
    metrics: dict[str, Any] = {
        "threshold": threshold,
        "recall_suicidewatch_validation_model": round(
            float((scores["suicidewatch"] >= threshold).mean()), 4
        ),
        "recall_suicidewatch_validation_with_safety_net": round(float(plain_flags.mean()), 4),
        "flag_rate_goemotions_test": round(float((test_scores >= threshold).mean()), 4),
        "flag_rate_goemotions_test_with_safety_net": round(
            float(flagged(test_texts, test_scores).mean()), 4
        )
        if test_texts
        else None,
        "flag_rate_not_stressed_validation": round(
            float((scores["not_stressed"] >= threshold).mean()), 4
        ),
        "flag_rate_stressed_validation": round(float((scores["stressed"] >= threshold).mean()), 4),
        "flag_rate_depression_validation": round(
            float((scores["depression"] >= threshold).mean()), 4
        ),
        "flag_rate_goemotions_validation": round(
            float((scores["goemotions_validation"] >= threshold).mean()), 4
        ),
        "roc_auc_suicidewatch_vs_depression_validation": auc,
        "depression_posts_by_crisis_language": auc_by_crisis_language(
            scores["suicidewatch"], s["depression"], scores["depression"], net
        ),
        "short_message_checks": short_message_checks(stage, threshold, net),
        "recall_obfuscated_with_safety_net": obfuscated,
        "long_posts": long_post_comparison(
            stage,
            {k: s[k] for k in ("suicidewatch", "depression", "stressed", "not_stressed")},
            target_recall=DEFAULT_TARGET_RECALL,
        ),
        "misses": len(misses),
        "examples": {name: len(t) for name, t in s.items()} | {"goemotions_test": len(test_texts)},
        "latency": latency(stage, sw[:50] + s["goemotions_validation"][:50]),
        "base_model": stage.card.base_model,
        "card_metrics": stage.card.metrics,
        "risk_tiers": tiers,
        "calibration": calibration,
    }

    fig, ax = plt.subplots(figsize=(6, 5))
    neg = np.r_[
        scores["depression"],
        scores["stressed"],
        scores["not_stressed"],
        scores["goemotions_validation"],
    ]
    prec, rec, _ = precision_recall_curve(
        np.r_[np.ones(len(sw)), np.zeros(len(neg))], np.r_[scores["suicidewatch"], neg]
    )
    ax.plot(rec, prec)
    ax.axvline(
        metrics["recall_suicidewatch_validation_model"],
        color="r",
        linestyle="--",
        label=f"threshold {threshold:.3f}",
    )
    ax.set_xlabel("recall (r/SuicideWatch validation)")
    ax.set_ylabel("precision (vs all validation negatives)")
    ax.legend()
    _save(fig, out / "pr_curve.png")

    def kind(text: str) -> str:
        words = len(text.split())
        if words < 40:
            return "short post"
        return "explicit wording, long post" if _names_death(text) else "implicit (no crisis words)"

    table = "\n".join(f"| {kind(t)} | {sc:.3f} | {_opening(t)} |" for sc, t in sorted(misses)[:12])
    false_alarms = []
    for key, name, texts, sc in (
        (
            "not_stressed",
            "not-stressed validation posts",
            s["not_stressed"],
            scores["not_stressed"],
        ),
        ("goemotions_test", "GoEmotions test", test_texts, test_scores),
    ):
        hits = sorted(
            ((float(x), t) for x, t in zip(sc, texts, strict=True) if x >= threshold),
            reverse=True,
        )
        share = sum(_names_death(t) for _, t in hits) / max(len(hits), 1)
        metrics[f"flagged_naming_death_{key}"] = round(share, 4)
        false_alarms.append(
            f"{name}: {len(hits)} flagged by the model, {share:.0%} of them name death, "
            "suicide or self-harm.\n\n| score | names death | opening |\n|---|---|---|\n"
            + "".join(f"| {x:.3f} | {_names_death(t)} | {_opening(t)} |\n" for x, t in hits[:8])
        )
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / "summary.md").write_text(
        f"# Crisis report: {model_dir.name}\n\n"
        f"| figure | value |\n|---|---|\n"
        + "".join(
            f"| {k} | {v} |\n"
            for k, v in metrics.items()
            if not isinstance(v, dict) and k != "base_model"
        )
        + f"| obfuscated recall (model + safety net) | {obfuscated} |\n\n"
        + risk_markdown(policy, tiers, calibration)
        + "## Held-out short messages (training/crisis_checks.yaml)\n\n"
        + "| messages | flagged, model | flagged, model + safety net |\n|---|---|---|\n"
        + "".join(
            f"| {k} ({v['messages']}) | {v['flagged_model']} | {v['flagged_with_safety_net']} |\n"
            for k, v in metrics["short_message_checks"].items()
        )
        + "\n"
        + "## Long posts: head+tail truncation vs windows with max pooling\n\n"
        + "| strategy | threshold | recall SW | flag not-stressed | flag stressed | "
        + "flag depression | AUC SW vs depression |\n|---|---|---|---|---|---|---|\n"
        + "".join(
            f"| {k} | {v['threshold']} | {v['recall_suicidewatch']} | "
            f"{v['flag_rate_not_stressed']} | {v['flag_rate_stressed']} | "
            f"{v['flag_rate_depression']} | {v['roc_auc_suicidewatch_vs_depression']} |\n"
            for k, v in metrics["long_posts"].items()
        )
        + "\n"
        + _depression_section(metrics["depression_posts_by_crisis_language"])
        + f"## Remaining misses (r/SuicideWatch validation posts not flagged)\n\n"
        f"| kind | score | opening |\n|---|---|---|\n{table}\n\n"
        "## False alarms: the highest-scored negatives flagged\n\n" + "\n".join(false_alarms)
    )
    return metrics
