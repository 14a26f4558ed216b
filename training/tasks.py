"""Labelled splits for each trainable task, built from the corpora.

Stage one (``crisis``) learns crisis from crisis-specific supervision, not from "sad" emotions:

- positives: r/SuicideWatch posts (SDCNL) and short explicit crisis messages made from the
  safety net's self-harm, plan, means and imminent-danger phrases;
- negatives: r/depression posts (at risk but not labelled suicidal; noisy labels, so weight
  0.5 by default), Dreaddit stressed and not-stressed segments (distress that is not an emergency),
  GoEmotions comments (everyday text) and dair-ai sadness/fear tweets (sad is not crisis),
  and figurative uses of crisis words ("my phone is dying", ``crisis_hard_negatives.yaml``,
  weight 2 by default) so that short explicit positives do not teach "die" = crisis, and
  everyday phrases in the positives' neutral carrier sentences ("honestly i just need a nap")
  so that the carriers do not teach "i think i ..." = crisis.
  Negatives on which the safety net fires are dropped: a model must never be taught that
  "i wanna die" is not crisis.
- short implicit warning signs (goodbyes, affairs put in order, a chosen date, burden) as
  positives, with everyday look-alikes as negatives (``crisis_warning_signs.yaml``, weight 0.5).
- optionally (``supportive_weight``), the posts of the psychiatrist-rated Supportive users of
  one half of the C-SSRS users as negatives, less their disclosures (``supportive_negatives``).

All of this uses the net without its ``net_only`` phrases (``training_net``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from datasets import Dataset, concatenate_datasets

from stages.labels import CRISIS_LABELS, SUPPORT_LABELS
from stages.safety_net import PhraseLists, SafetyNet, load_phrase_lists
from training.cssrs import load_cssrs, split_users
from training.data import (
    DAIR_LABELS,
    SEED,
    TWEETEVAL_LABELS,
    load_dair_emotion,
    load_dreaddit,
    load_goemotions,
    load_sdcnl,
    load_tweeteval_emotion,
    subsample,
)
from training.label_issues import flagged_keys, text_key
from training.mapping import MultiLabelRule, load_mapping

TASKS = ("crisis", "support", "dair_emotion", "tweeteval_emotion")
# Categories whose phrases become synthetic stage-one positives. Left to the net: abuse (it
# needs a different response, not a suicide-risk score) and attempts in progress (an
# emergency the net names in its reason whatever the model says; phrases added there never
# retrain stage one).
_PHRASE_CATEGORIES = ("self_harm_intent", "suicide_plan", "means", "imminent_danger")
# Sentences the phrases are put in. The neutral ones also carry everyday phrases as
# negatives (``carrier_negatives``): a carrier must not be what tells crisis apart.
_DISTRESS_CARRIERS = ("i cant do this anymore. {p}", "nobody would notice. {p}")
_CARRIERS = (
    "{p}",
    "i think i {p}",
    "honestly i just {p}",
    *_DISTRESS_CARRIERS,
    "{p} and i mean it",
)
_NEUTRAL_CARRIERS = tuple(c for c in _CARRIERS if c not in _DISTRESS_CARRIERS)


@dataclass
class TaskData:
    """Train/validation (and optionally test) splits with ``text``, ``label``, ``weight``."""

    labels: list[str]
    train: Dataset
    validation: Dataset
    test: Dataset | None = None
    # Hand-written training examples, kept whole when a recipe subsamples ``train``.
    curated: Dataset | None = None
    # Named validation slices for reports (e.g. "suicidewatch", "not_stressed").
    slices: dict[str, Dataset] = field(default_factory=dict)


def _frame(texts: list[str], label: int, weight: float, source: str) -> Dataset:
    n = len(texts)
    return Dataset.from_dict(
        {"text": texts, "label": [label] * n, "weight": [weight] * n, "source": [source] * n}
    )


def _hand_written(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((Path(__file__).parent / name).read_text()))


def training_net(lists: PhraseLists | None = None) -> SafetyNet:
    """The safety net less its ``net_only`` phrases: stage one's data is built with it.

    ``lists`` defaults to the shipped phrase lists. Net-only phrases neither make positives
    nor drop negatives, so widening the net with them leaves stage one's data, and so its
    model, as they were (reports/crisis-demo/recipes.md, E14).
    """
    return SafetyNet((lists or load_phrase_lists()).without_net_only())


def phrase_positives(net: SafetyNet | None = None, seed: int = SEED) -> list[str]:
    """Short explicit crisis messages from the safety net's phrase lists."""
    net = net or training_net()
    rng = random.Random(seed)
    out = []
    for category in _PHRASE_CATEGORIES:
        for phrase in net.phrases.categories[category].phrases:
            for carrier in rng.sample(_CARRIERS, 3):
                out.append(carrier.format(p=phrase))
    return out


def carrier_negatives(net: SafetyNet | None = None, seed: int = SEED) -> list[str]:
    """Everyday phrases in three of the neutral carriers each (none the safety net flags)."""
    data = _hand_written("crisis_hard_negatives.yaml")
    rng = random.Random(seed)
    out = [
        carrier.format(p=phrase)
        for phrase in data["carrier_phrases"]
        for carrier in rng.sample(_NEUTRAL_CARRIERS, 3)
    ]
    return _without_net_hits(out, net or training_net())


def figurative_negatives(net: SafetyNet | None = None) -> list[str]:
    """Everyday messages that use crisis words in another sense (none the safety net flags)."""
    data = _hand_written("crisis_hard_negatives.yaml")
    return _without_net_hits(list(data["sentences"]), net or training_net())


def warning_signs(net: SafetyNet | None = None) -> tuple[list[str], list[str]]:
    """Implicit warning-sign messages and their everyday look-alikes (net hits dropped)."""
    data = _hand_written("crisis_warning_signs.yaml")
    look_alikes = _without_net_hits(data["look_alikes"], net or training_net())
    return list(data["warning_signs"]), look_alikes


def _without_net_hits(texts: list[str], net: SafetyNet) -> list[str]:
    return [t for t in texts if not net.matches(t)]


def frame_negatives(seed: int = SEED) -> dict[str, list[str]]:
    """Crisis words about someone else, recovered from, or as a topic, by frame (negatives).

    Filled from ``crisis_frames.yaml``. Each one reads, to the safety net's frame reader, as
    no present risk of the writer (``tests/test_crisis_data.py``); nothing here filters them,
    so stage one's data does not move when the frame rules do.
    """
    data = _hand_written("crisis_frames.yaml")
    rng = random.Random(seed)
    out: dict[str, list[str]] = {}
    for frame, templates in data["templates"].items():
        texts = []
        for template in templates:
            for me, you, them in rng.sample(data["acts"], 3):
                noun = rng.choice(data["nouns"])
                texts.append(template.format(me=me, you=you, them=them, noun=noun))
        out[frame] = list(dict.fromkeys(texts))
    return out


def supportive_negatives(root: Path | None, net: SafetyNet) -> list[str]:
    """Posts of the C-SSRS Supportive users of the training half, as stage-one negatives.

    These users only support others ("please don't kill yourself, why do you want to die?").
    A post whose net match reads as the writer's own risk now is left out: a Supportive user
    who discloses risk must still be seen. The other half of the users stays held out for
    the reports (``training.cssrs.split_users``).
    """
    trained, _ = split_users(load_cssrs(root))
    posts = [p for u in trained if u.label == "Supportive" for p in u.posts]
    return [p for p in posts if not any(m.urgent for m in net.matches(p))]


def _curated(
    net: SafetyNet,
    seed: int,
    figurative_weight: float,
    warning_sign_weight: float,
    frame_weight: float,
) -> list[Dataset]:
    """The hand-written parts of stage one's data, kept whole when a recipe subsamples."""
    curated = [
        _frame(phrase_positives(net, seed), 1, 1.0, "phrases"),
        _frame(carrier_negatives(net, seed), 0, 1.0, "carriers"),
    ]
    if figurative_weight:
        curated.append(_frame(figurative_negatives(net), 0, figurative_weight, "figurative"))
    if warning_sign_weight:
        signs, look_alikes = warning_signs(net)
        curated.append(_frame(signs, 1, warning_sign_weight, "warning_signs"))
        curated.append(_frame(look_alikes, 0, warning_sign_weight, "look_alikes"))
    if frame_weight:
        for frame, texts in frame_negatives(seed).items():
            curated.append(_frame(texts, 0, frame_weight, f"frame_{frame}"))
    return curated


def _validation_slices(
    sw_val: list[str],
    dep_val: list[str],
    dv: Dataset,
    go: Any,
    goemotions_validation: int | None,
    seed: int,
) -> dict[str, Dataset]:
    """Stage one's named validation slices, in the order the reports read them."""
    stressed = [t for t, y in zip(dv["text"], dv["label"], strict=True) if y == 1]
    calm = [t for t, y in zip(dv["text"], dv["label"], strict=True) if y == 0]
    go_val = subsample(go["validation"], goemotions_validation, seed)["text"]
    slices = {
        "suicidewatch": _frame(sw_val, 1, 1.0, "suicidewatch"),
        "depression": _frame(dep_val, 0, 1.0, "depression"),
        "stressed": _frame(stressed, 0, 1.0, "stressed"),
        "not_stressed": _frame(calm, 0, 1.0, "not_stressed"),
        "goemotions_validation": _frame(go_val, 0, 1.0, "goemotions"),
    }
    return slices


def crisis_task(
    root: Path | None,
    *,
    goemotions_train: int | None = 8000,
    dair_negatives: int | None = 2000,
    goemotions_validation: int | None = None,
    depression_weight: float = 0.5,
    figurative_weight: float = 2.0,
    warning_sign_weight: float = 0.5,
    frame_weight: float = 0.0,
    supportive_weight: float = 0.0,
    drop_label_issues: bool = False,
    seed: int = SEED,
) -> TaskData:
    """Stage one's binary crisis data (see the module docstring for the choices)."""
    net = training_net()
    issues = flagged_keys() if drop_label_issues else frozenset()
    sdcnl, dreaddit, go, dair = (
        load_sdcnl(root),
        load_dreaddit(root),
        load_goemotions(root),
        load_dair_emotion(root),
    )

    def split_sdcnl(split: str) -> tuple[list[str], list[str]]:
        ds = sdcnl[split]
        return (
            [t for t, y in zip(ds["text"], ds["is_suicide"], strict=True) if y == 1],
            [t for t, y in zip(ds["text"], ds["is_suicide"], strict=True) if y == 0],
        )

    sw_train, dep_train = split_sdcnl("train")
    if issues:  # posts whose subreddit label the text contradicts (training/label_issues.py)
        sw_train = [t for t in sw_train if text_key(t) not in issues]
        dep_train = [t for t in dep_train if text_key(t) not in issues]
    sad = dair["train"].filter(lambda ex: DAIR_LABELS[ex["label"]] in ("sadness", "fear"))
    train = concatenate_datasets(
        [
            _frame(sw_train, 1, 1.0, "suicidewatch"),
            _frame(dep_train, 0, depression_weight, "depression"),
            _frame(_without_net_hits(dreaddit["train"]["text"], net), 0, 1.0, "dreaddit"),
            _frame(
                _without_net_hits(subsample(go["train"], goemotions_train, seed)["text"], net),
                0,
                1.0,
                "goemotions",
            ),
            _frame(
                _without_net_hits(subsample(sad, dair_negatives, seed)["text"], net),
                0,
                1.0,
                "dair_sad",
            ),
        ]
    ).shuffle(seed=seed)
    curated = _curated(net, seed, figurative_weight, warning_sign_weight, frame_weight)
    if supportive_weight:
        supportive = supportive_negatives(root, net)
        curated.append(_frame(supportive, 0, supportive_weight, "cssrs_supportive"))
    sw_val, dep_val = split_sdcnl("validation")
    slices = _validation_slices(
        sw_val, dep_val, dreaddit["validation"], go, goemotions_validation, seed
    )
    validation = concatenate_datasets(list(slices.values()))
    test = _frame(go["test"]["text"], 0, 1.0, "goemotions_test")
    return TaskData(
        list(CRISIS_LABELS),
        train,
        validation,
        test,
        curated=concatenate_datasets(curated),
        slices=slices,
    )


def support_task(
    root: Path | None,
    *,
    rule: MultiLabelRule = "most_severe",
    mapping_path: str | Path | None = None,
) -> TaskData:
    """Stage two: GoEmotions mapped to the five support classes."""
    mapping = load_mapping(mapping_path)
    go = load_goemotions(root)

    def convert(ds: Dataset) -> Dataset:
        return ds.map(
            lambda ex: {
                "label": SUPPORT_LABELS.index(mapping.label(ex["labels"], rule)),
                "weight": 1.0,
            },
            remove_columns=[c for c in ds.column_names if c != "text"],
        )

    return TaskData(
        list(SUPPORT_LABELS), convert(go["train"]), convert(go["validation"]), convert(go["test"])
    )


def emotion_task(name: str, root: Path | None) -> TaskData:
    """A plain single-label emotion classifier (dair-ai emotion or TweetEval emotion)."""
    ds, labels = (
        (load_dair_emotion(root), DAIR_LABELS)
        if name == "dair_emotion"
        else (load_tweeteval_emotion(root), TWEETEVAL_LABELS)
    )
    ds = ds.map(lambda ex: {"weight": 1.0})
    return TaskData(list(labels), ds["train"], ds["validation"], ds["test"])


def load_task(name: str, root: Path | None, **options: object) -> TaskData:
    """Build the named task's data."""
    if name == "crisis":
        return crisis_task(root, **options)  # type: ignore[arg-type]
    if name == "support":
        return support_task(root, **options)  # type: ignore[arg-type]
    if name in ("dair_emotion", "tweeteval_emotion"):
        return emotion_task(name, root)
    raise ValueError(f"unknown task {name!r}; choose one of {TASKS}")
