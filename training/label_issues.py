"""Subreddit labels that the text contradicts, found with confident learning (cleanlab).

SDCNL labels a post by its subreddit: r/SuicideWatch posts are stage one's positives,
r/depression posts its negatives. Some r/depression posts state suicidal intent and some
r/SuicideWatch posts state none. Cleanlab compares each label with out-of-fold predicted
probabilities (here: a logistic regression on all-MiniLM-L6-v2 sentence embeddings, 5 folds)
and flags the labels the predictions contradict most. Stage one's data then drops the flagged
posts (``crisis_task``): a flagged r/depression post is a disclosure taught as "not crisis",
a flagged r/SuicideWatch post a subreddit taught as "crisis".

The flags are data: ``triage label-issues`` writes them (text hashes, never text) to
``training/sdcnl_label_issues.yaml``, so training reads a file instead of embedding the corpus.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ISSUES_FILE = Path(__file__).parent / "sdcnl_label_issues.yaml"


def text_key(text: str) -> str:
    """A short, stable key for a corpus text (SHA-256 prefix)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def find_issues(
    texts: list[str], labels: np.ndarray, embed: Any, folds: int = 5, seed: int = 13
) -> tuple[np.ndarray, np.ndarray]:
    """Cleanlab's label issues (boolean mask) and the out-of-fold probabilities behind them.

    ``embed`` maps a list of texts to an array of sentence embeddings.
    """
    from cleanlab.filter import find_label_issues
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    features = np.asarray(embed(texts))
    probs = cross_val_predict(
        LogisticRegression(max_iter=3000),
        features,
        labels,
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        method="predict_proba",
    )
    issues = find_label_issues(labels, probs, filter_by="prune_by_noise_rate")
    return np.asarray(issues, dtype=bool), probs


def sentence_embedder(model_path: str, max_tokens: int = 256) -> Any:
    """A sentence-transformers encoder as a function of a list of texts."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path, device="cpu")
    model.max_seq_length = max_tokens
    return lambda texts: model.encode(texts, batch_size=32)


def write_issues(
    texts: list[str], labels: np.ndarray, issues: np.ndarray, probs: np.ndarray, path: Path
) -> dict[str, int]:
    """Write the flagged posts' keys by given label; return counts for the report."""
    flagged: dict[str, list[str]] = {"suicidewatch": [], "depression": []}
    for text, label, issue in zip(texts, labels, issues, strict=True):
        if issue:
            flagged["suicidewatch" if label == 1 else "depression"].append(text_key(text))
    data = {
        "version": 1,
        "method": "cleanlab find_label_issues (prune_by_noise_rate) on 5-fold logistic "
        "regression over all-MiniLM-L6-v2 embeddings of the SDCNL training split",
        "posts": int(len(texts)),
        "out_of_fold_auc": round(float(_auc(labels, probs[:, 1])), 4),
        "flagged": {k: sorted(v) for k, v in flagged.items()},
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return {k: len(v) for k, v in flagged.items()}


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def flagged_keys(path: Path = ISSUES_FILE) -> frozenset[str]:
    """Keys of every flagged post."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: write it with `triage label-issues`")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return frozenset(k for keys in data["flagged"].values() for k in keys)


def sdcnl_label_issues(root: Path | None, output: Path = ISSUES_FILE) -> dict[str, Any]:
    """Find and write the label issues of the SDCNL training split; return what was found."""
    from training.base_models import resolve_base
    from training.data import load_sdcnl

    train = load_sdcnl(root)["train"]
    texts, labels = list(train["text"]), np.array(train["is_suicide"])
    issues, probs = find_issues(texts, labels, sentence_embedder(resolve_base(None)))
    counts = write_issues(texts, labels, issues, probs, output)
    return {"posts": len(texts), "flagged": counts, "output": str(output)}
