"""The report of a classification stage (stage two, emotion models): metrics, plots, Markdown.

``classification_metrics`` is a pure function of probabilities and gold labels; the plots and
the Markdown are rendered from what it returns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
)

from training.evaluate import expected_calibration_error, latency, load_stage, probabilities
from training.plots import figure, save


def classification_metrics(
    labels: list[str],
    thresholds: dict[str, float],
    probs: np.ndarray,
    gold: np.ndarray,
    texts: list[str],
) -> dict[str, Any]:
    """Accuracy, F1, per-class figures, calibration and the top confusions with examples."""
    pred = probs.argmax(1)
    p, r, f, support = precision_recall_fscore_support(
        gold, pred, labels=range(len(labels)), zero_division=0
    )
    ece, bins = expected_calibration_error(probs, gold)
    per_class = np.array([thresholds.get(name, 0.0) for name in labels])
    confident = probs.max(1) >= per_class[pred]
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
    return {
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
        "reliability_bins": bins,
        "confusion_matrix": cm.tolist(),
        "thresholds": thresholds,
        "confident_share": round(float(confident.mean()), 4),
        "accuracy_when_confident": round(float((pred == gold)[confident].mean()), 4)
        if confident.any()
        else None,
        "top_confusions": [
            {
                "gold": g,
                "predicted": q,
                "count": c,
                "examples": [
                    texts[k][:160]
                    for k in np.nonzero((gold == labels.index(g)) & (pred == labels.index(q)))[0][
                        :3
                    ]
                ],
            }
            for c, g, q in pairs
        ],
    }


def classification_plots(
    labels: list[str], metrics: dict[str, Any], probs: np.ndarray, gold: np.ndarray, out: Path
) -> None:
    """``confusion_matrix.png``, ``pr_curve.png`` and ``reliability.png`` in ``out``."""
    cm = np.array(metrics["confusion_matrix"])
    fig, ax = figure((6, 5))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    save(fig, out / "confusion_matrix.png")

    fig, ax = figure((6, 5))
    for k, name in enumerate(labels):
        prec, rec, _ = precision_recall_curve(gold == k, probs[:, k])
        ax.plot(rec, prec, label=name)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.legend(fontsize=7)
    save(fig, out / "pr_curve.png")

    bins = metrics["reliability_bins"]
    fig, ax = figure((5, 5))
    ax.plot([0, 1], [0, 1], "k--", linewidth=1)
    ax.plot([b[0] for b in bins], [b[1] for b in bins], "o-")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"reliability (ECE {metrics['ece']:.3f})")
    save(fig, out / "reliability.png")


def classification_markdown(name: str, metrics: dict[str, Any]) -> str:
    """The report's ``summary.md``."""
    rows = "\n".join(
        f"| {n} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
        for n, v in metrics["per_class"].items()
    )
    confusions = "\n".join(
        f"| {c['gold']} | {c['predicted']} | {c['count']} | {(c['examples'] or [''])[0][:90]} |"
        for c in metrics["top_confusions"]
    )
    return (
        f"# {name} on {metrics['split']}\n\n"
        f"{metrics['examples']} examples. Accuracy {metrics['accuracy']:.4f}, macro F1 "
        f"{metrics['macro_f1']:.4f}, weighted F1 {metrics['weighted_f1']:.4f}, "
        f"ECE {metrics['ece']:.4f}.\n"
        f"With the tuned thresholds {metrics['confident_share']:.1%} of messages are confident "
        f"(accuracy there {metrics['accuracy_when_confident']}).\n\n"
        f"| class | precision | recall | F1 | support |\n|---|---|---|---|---|\n{rows}\n\n"
        f"## Top confusions\n\n| gold | predicted | count | example |\n|---|---|---|---|\n"
        f"{confusions}\n\nLatency on this machine: {metrics['latency']}\n"
    )


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
    metrics = classification_metrics(labels, stage.card.thresholds, probs, gold, texts)
    metrics |= {
        "split": split,
        "latency": latency(stage, texts[:200]),
        "base_model": stage.card.base_model,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    classification_plots(labels, metrics, probs, gold, out)
    (out / "summary.md").write_text(classification_markdown(model_dir.name, metrics))
    return metrics
