"""Corpora through ``datasets.load_dataset``: a local folder (``TRIAGE_DATA_DIR``) or the hub.

Every loader returns a ``DatasetDict`` with a ``text`` column and the corpus's own label
columns. Local folders have the layout described in each corpus's DATA.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict, load_dataset

HUB_NAMES = {
    "goemotions": ("google-research-datasets/go_emotions", "simplified"),
    "dair_emotion": ("dair-ai/emotion", None),
    "tweeteval_emotion": ("cardiffnlp/tweet_eval", "emotion"),
}
DAIR_LABELS = ["sadness", "joy", "love", "anger", "fear", "surprise"]
TWEETEVAL_LABELS = ["anger", "joy", "optimism", "sadness"]
SEED = 13


def data_dir(explicit: str | Path | None = None) -> Path | None:
    """The local corpora folder: the argument, else ``TRIAGE_DATA_DIR``, else none (hub)."""
    value = explicit or os.environ.get("TRIAGE_DATA_DIR")
    return Path(value) if value else None


def _local(name: str, root: Path | None) -> Path | None:
    if root is not None and (root / name).is_dir():
        return root / name
    return None


def _need_local(name: str, root: Path | None) -> Path:
    folder = _local(name, root)
    if folder is None:
        raise FileNotFoundError(
            f"{name} is only available locally: set TRIAGE_DATA_DIR to a folder holding {name}/"
        )
    return folder


def load_goemotions(root: Path | None = None) -> DatasetDict:
    """GoEmotions (simplified): ``text`` and ``labels`` (list of emotion ids)."""
    folder = _local("goemotions", root)
    if folder is None:
        hub, config = HUB_NAMES["goemotions"]
        return load_dataset(hub, config)
    raw = load_dataset(
        "csv",
        data_files={
            s: str(folder / f"{f}.tsv")
            for s, f in (("train", "train"), ("validation", "dev"), ("test", "test"))
        },
        delimiter="\t",
        column_names=["text", "ids", "comment_id"],
        keep_default_na=False,
    )
    return raw.map(
        lambda ex: {"labels": [int(i) for i in str(ex["ids"]).split(",")]}, remove_columns=["ids"]
    )


def load_dair_emotion(root: Path | None = None) -> DatasetDict:
    """dair-ai emotion: ``text`` and ``label`` (ClassLabel of six emotions)."""
    folder = _local("dair_emotion", root)
    if folder is None:
        return load_dataset(HUB_NAMES["dair_emotion"][0])
    raw = load_dataset(
        "csv",
        data_files={
            s: str(folder / f"{f}.txt")
            for s, f in (("train", "train"), ("validation", "val"), ("test", "test"))
        },
        delimiter=";",
        column_names=["text", "name"],
        keep_default_na=False,
    )
    raw = raw.map(lambda ex: {"label": DAIR_LABELS.index(ex["name"])}, remove_columns=["name"])
    return raw.cast_column("label", ClassLabel(names=DAIR_LABELS))


def load_tweeteval_emotion(root: Path | None = None) -> DatasetDict:
    """TweetEval emotion: ``text`` and ``label`` (anger, joy, optimism, sadness)."""
    folder = _local("tweeteval_emotion", root)
    if folder is None:
        hub, config = HUB_NAMES["tweeteval_emotion"]
        return load_dataset(hub, config)
    splits = {}
    for split, prefix in (("train", "train"), ("validation", "val"), ("test", "test")):
        texts = load_dataset("text", data_files=str(folder / f"{prefix}_text.txt"))["train"]
        labels = load_dataset("text", data_files=str(folder / f"{prefix}_labels.txt"))["train"]
        splits[split] = Dataset.from_dict(
            {"text": [t.strip() for t in texts["text"]], "label": [int(v) for v in labels["text"]]}
        ).cast_column("label", ClassLabel(names=TWEETEVAL_LABELS))
    return DatasetDict(splits)


def load_sdcnl(root: Path | None = None) -> DatasetDict:
    """SDCNL training posts split 80/20 (stratified, fixed seed): ``text``, ``is_suicide``."""
    folder = _need_local("sdcnl", root)
    raw = load_dataset("csv", data_files=str(folder / "train.csv"), keep_default_na=False)["train"]
    raw = raw.map(
        lambda ex: {"text": f"{ex['title']}\n{ex['selftext']}".strip()},
        remove_columns=["title", "selftext"],
    )
    raw = raw.cast_column("is_suicide", ClassLabel(names=["depression", "suicidewatch"]))
    parts = raw.train_test_split(test_size=0.2, seed=SEED, stratify_by_column="is_suicide")
    return DatasetDict(train=parts["train"], validation=parts["test"])


def load_dreaddit(root: Path | None = None) -> DatasetDict:
    """Dreaddit training segments split 80/20 (stratified, fixed seed): ``text``, ``label``."""
    folder = _need_local("dreaddit", root)
    raw = load_dataset("csv", data_files=str(folder / "train.csv"), keep_default_na=False)["train"]
    raw = raw.select_columns(["text", "label", "subreddit"])
    raw = raw.cast_column("label", ClassLabel(names=["not_stressed", "stressed"]))
    parts = raw.train_test_split(test_size=0.2, seed=SEED, stratify_by_column="label")
    return DatasetDict(train=parts["train"], validation=parts["test"])


def subsample(ds: Dataset, n: int | None, seed: int = SEED) -> Dataset:
    """At most ``n`` rows, drawn with a fixed seed."""
    if n is None or n >= len(ds):
        return ds
    return ds.shuffle(seed=seed).select(range(n))
