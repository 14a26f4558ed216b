"""A stage backed by a fine-tuned Hugging Face sequence classifier."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoConfig, AutoTokenizer

from stages.backends import (
    LAYER_MEANS,
    OnnxScorer,
    TorchScorer,
    load_scorer,
    resolve_backend,
)
from stages.batching import CPU_PASS_OVERHEAD_TOKENS, length_batches
from stages.errors import ModelDirError, StageError
from stages.labels import CRISIS, DEFAULT_CRISIS_THRESHOLD, NOT_CRISIS
from stages.model_dir import StageCard
from stages.normalize import model_text
from stages.results import StageResult
from stages.safety_net import crisis_unmasker
from stages.truncation import head_tail_chars, head_tail_ids, windows

# Windows whose kept layer states stay in memory for a head (about 4.6 KB each for three
# MiniLM layers); the batch just scored is always kept whole.
MEMO_WINDOWS = 4096
# Sequences per call to a scorer that runs each alone (int8): nothing is padded, so one call
# per batch, bounded only so the ids array stays small.
PER_SEQUENCE_CALL = 1024
_SPECIAL: weakref.WeakKeyDictionary[Any, tuple[list[int], list[int]]] = weakref.WeakKeyDictionary()


def special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids a tokenizer puts before and after one sequence ([CLS] ... [SEP] for BERT)."""
    known = _SPECIAL.get(tokenizer)
    if known is not None:
        return known  # asked on every batch; the two tokenizer calls cost ~0.08 ms
    bare = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a", add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(bare) + 1):
        if full[start : start + len(bare)] == bare:
            _SPECIAL[tokenizer] = full[:start], full[start + len(bare) :]
            return _SPECIAL[tokenizer]
    raise ModelDirError("cannot find how the tokenizer wraps a sequence in special tokens")


def encode(
    tokenizer: Any, texts: Sequence[str], max_length: int, head_fraction: float
) -> list[list[int]]:
    """Token ids with special tokens, head+tail truncated to ``max_length``."""
    return [w[0] for w in encode_windows(tokenizer, texts, max_length, head_fraction, 1)]


def encode_windows(
    tokenizer: Any, texts: Sequence[str], max_length: int, head_fraction: float, max_windows: int
) -> list[list[list[int]]]:
    """Per text, up to ``max_windows`` windows of token ids with special tokens.

    One window is head+tail truncation; more cover a long text with overlapping windows.
    """
    inner = max_length - sum(map(len, special_tokens(tokenizer)))
    ids = raw_ids(tokenizer, texts, inner * max_windows, head_fraction)
    return wrap_windows(tokenizer, ids, max_length, head_fraction, max_windows)


def raw_ids(
    tokenizer: Any, texts: Sequence[str], max_tokens: int, head_fraction: float
) -> list[list[int]]:
    """Token ids without special tokens of each normalised text (very long texts pre-cut)."""
    unmask = crisis_unmasker()
    cut = [model_text(head_tail_chars(t, max_tokens, head_fraction), unmask) for t in texts]
    ids: list[list[int]] = tokenizer(cut, add_special_tokens=False, truncation=False)["input_ids"]
    return ids


def wrap_windows(
    tokenizer: Any, ids: list[list[int]], max_length: int, head_fraction: float, max_windows: int
) -> list[list[list[int]]]:
    """Cut raw ids to windows of ``max_length`` and add the special tokens."""
    before, after = special_tokens(tokenizer)
    inner = max_length - len(before) - len(after)
    if max_windows == 1:
        return [[before + head_tail_ids(i, inner, head_fraction) + after] for i in ids]
    return [
        [before + w + after for w in windows(i, inner, max_windows, head_fraction)] for i in ids
    ]


class SharedTokens:
    """One tokenisation for stages that share a vocabulary: raw ids per text, kept briefly.

    Stage one tokenises a batch; stage two, with the same vocabulary, finds the ids here.
    Texts are pre-cut to the largest budget any sharing stage needs, so every stage can cut
    its own windows from the same ids.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self.tokenizer: Any = None
        self.max_tokens = 0
        self.head_fraction = 0.25
        self._memo: OrderedDict[str, list[int]] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def join(self, tokenizer: Any, max_tokens: int, head_fraction: float) -> bool:
        """Share with a stage whose tokenizer splits text exactly as this one does."""
        if self.tokenizer is None:
            self.tokenizer, self.head_fraction = tokenizer, head_fraction
        elif not (
            type(tokenizer) is type(self.tokenizer)
            and special_tokens(tokenizer) == special_tokens(self.tokenizer)
            and tokenizer.get_vocab() == self.tokenizer.get_vocab()
            and getattr(tokenizer, "do_lower_case", None)
            == getattr(self.tokenizer, "do_lower_case", None)
        ):
            return False
        self.max_tokens = max(self.max_tokens, max_tokens)
        return True

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Raw ids for ``texts``, tokenising only those not seen recently."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
            if missing:
                fresh = raw_ids(self.tokenizer, missing, self.max_tokens, self.head_fraction)
                self._memo.update(zip(missing, fresh, strict=True))
            out = [self._memo[t] for t in texts]
            while len(self._memo) > self._max_entries:
                self._memo.popitem(last=False)
            return out


def resolve_device(device: str) -> str:
    """``auto`` becomes ``cuda`` when a GPU is visible, else ``cpu``; anything else as given."""
    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


class TransformerStage:
    """Scores texts with a sequence-classification model and applies the card's thresholds.

    ``source`` is a local model directory written by training, or a Hugging Face name (then
    labels come from the model config and thresholds default to 0.5 / none). ``backend`` is
    ``torch``, ``onnx``, ``onnx-int8`` (graphs written by `triage export`) or ``auto``.
    ``tokens`` shares one tokenisation with other stages of the same vocabulary.
    """

    def __init__(
        self,
        name: str,
        source: str | Path,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        max_length: int | None = None,
        backend: str = "torch",
        threads: int | None = None,
        tokens: SharedTokens | None = None,
    ) -> None:
        self.name = name
        self.source = str(source)
        self.device = torch.device(resolve_device(device))
        self.batch_size = batch_size
        self.backend = resolve_backend(backend, self.source, self.device.type)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.source)
            config = AutoConfig.from_pretrained(self.source)
            self.scorer = load_scorer(self.backend, self.source, str(self.device), threads)
        except (OSError, ValueError) as exc:
            raise ModelDirError(
                f"cannot load stage {name!r} from {self.source!r}: {exc}. "
                "Train one with `triage train` (or `make demo`), or name a Hugging Face model."
            ) from exc
        # Texts are tokenised whole and cut to the model's limit here (head+tail or windows),
        # so the tokenizer's "longer than the maximum" warning would only mislead.
        self.tokenizer.model_max_length = 1 << 30
        if Path(self.source, "config.json").exists() and Path(self.source).is_dir():
            self.card = StageCard.load(self.source)
        else:
            labels = [config.id2label[i] for i in range(config.num_labels)]
            self.card = StageCard(task="crisis" if CRISIS in labels else "support", labels=labels)
        if len(self.card.labels) != config.num_labels:
            raise ModelDirError(
                f"{self.source}: card has {len(self.card.labels)} labels, "
                f"model has {config.num_labels} outputs"
            )
        self.max_length = max_length or self.card.max_length
        # A shared tokenisation pre-cuts texts for the widest windows this stage may be asked for.
        inner = self.max_length - sum(map(len, special_tokens(self.tokenizer)))
        self._shared_windows = max(self.card.max_windows, 8)
        self.tokens = (
            tokens
            if tokens is not None
            and tokens.join(self.tokenizer, inner * self._shared_windows, self.card.head_fraction)
            else None
        )
        self._kept_layers: tuple[int, ...] = ()
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memo_windows = 0
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The PyTorch model (``torch`` backend only)."""
        if not isinstance(self.scorer, TorchScorer):
            raise AttributeError(f"stage {self.name!r} runs on {self.backend}, not PyTorch")
        return self.scorer.model

    def share_layers(self, layers: Sequence[int]) -> None:
        """Keep these layers' mean-pooled states of the texts this stage scores, for a head.

        A head stage (``stages.head``) on this encoder then reads them instead of running the
        encoder again: one forward pass serves both stages.
        """
        wanted = tuple(layers)
        if isinstance(self.scorer, OnnxScorer) and not self.scorer.has_layer_means:
            raise ModelDirError(
                f"{self.scorer.path} has no {LAYER_MEANS} output for a head to read (exported "
                f"before heads could share the pass): run `triage export {self.source}`"
            )
        if self._kept_layers and self._kept_layers != wanted:
            raise ValueError(
                f"stage {self.name!r} already keeps layers {self._kept_layers}, not {wanted}"
            )
        self._kept_layers = wanted

    def probabilities(
        self, texts: Sequence[str], max_windows: int | None = None
    ) -> list[list[float]]:
        """Class probabilities per text (length-sorted batches, padded to the longest).

        With ``max_windows`` > 1 a long text is scored in overlapping windows and the window
        with the highest crisis probability (crisis stages) or the mean (others) is kept.
        """
        n_windows = max_windows or self.card.max_windows
        per_text = self._windows(texts, n_windows)
        keep = bool(self._kept_layers) and n_windows == self.card.max_windows
        rows, features = self._score_windows(per_text, keep)
        if keep:
            self._remember(texts, features)
        crisis = self.card.labels.index(CRISIS) if self.card.task == "crisis" else None
        out = []
        for chunk in rows:
            if len(chunk) == 1:
                out.append(chunk[0])
            elif crisis is not None:
                out.append(max(chunk, key=lambda r: r[crisis]))
            else:
                out.append([sum(col) / len(chunk) for col in zip(*chunk, strict=True)])
        return out

    def crisis_probabilities(self, texts: Sequence[str]) -> list[float]:
        """The crisis probability of each text, uncalibrated (``SentenceScorer``)."""
        k = self.card.labels.index(CRISIS)
        return [row[k] for row in self.probabilities(texts)]

    def layer_features(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Per text, [windows, kept layers x hidden]: the states kept by ``share_layers``.

        Texts this stage has just scored are read from memory; others are scored now.
        """
        if not self._kept_layers:
            raise StageError(f"stage {self.name!r} keeps no layers: call share_layers first")
        with self._lock:
            found = {t: self._memo[t] for t in texts if t in self._memo}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            _, features = self._score_windows(self._windows(missing, self.card.max_windows), True)
            found.update(zip(missing, features, strict=True))
            self._remember(missing, features)
        return [found[t] for t in texts]

    def forget(self) -> None:
        """Drop the layer states kept for a head (benchmarks time the pass itself)."""
        with self._lock:
            self._memo.clear()
            self._memo_windows = 0

    def _windows(self, texts: Sequence[str], n_windows: int) -> list[list[list[int]]]:
        if self.tokens is not None and n_windows <= self._shared_windows:
            return wrap_windows(
                self.tokenizer,
                self.tokens.ids(texts),
                self.max_length,
                self.card.head_fraction,
                n_windows,
            )
        return encode_windows(
            self.tokenizer, texts, self.max_length, self.card.head_fraction, n_windows
        )

    def _score_windows(
        self, per_text: list[list[list[int]]], keep: bool
    ) -> tuple[list[list[list[float]]], list[np.ndarray]]:
        """Probabilities per window of each text, and (``keep``) the kept layers' states."""
        flat = [w for ws in per_text for w in ws]
        probs, kept = self._score_ids(flat, keep)
        rows, features, k = [], [], 0
        for ws in per_text:
            rows.append(probs[k : k + len(ws)])
            if kept is not None:
                features.append(kept[k : k + len(ws)])
            k += len(ws)
        return rows, features

    def _remember(self, texts: Sequence[str], features: list[np.ndarray]) -> None:
        # Bounded, but never below the batch just scored: the head asks for it next.
        with self._lock:
            for text, f in zip(texts, features, strict=True):
                old = self._memo.pop(text, None)
                self._memo_windows += len(f) - (len(old) if old is not None else 0)
                self._memo[text] = f
            while self._memo_windows > MEMO_WINDOWS and len(self._memo) > len(texts):
                _, dropped = self._memo.popitem(last=False)
                self._memo_windows -= len(dropped)

    def _score_ids(
        self, ids: list[list[int]], keep: bool = False
    ) -> tuple[list[list[float]], np.ndarray | None]:
        """Probabilities per sequence, and (``keep``) the kept layers' states concatenated."""
        # Length-bucketed batches padded to their longest: short chat messages cost little.
        overhead = CPU_PASS_OVERHEAD_TOKENS if self.device.type == "cpu" else None
        out: list[list[float]] = [[] for _ in ids]
        kept: np.ndarray | None = None
        # A scorer that runs each sequence alone pads nothing: few calls keep its pool busy
        # instead of waiting for the slowest sequence of every length bucket.
        whole = self.scorer.per_sequence
        size = max(self.batch_size, PER_SEQUENCE_CALL) if whole else self.batch_size
        for chunk in length_batches([len(i) for i in ids], size, None if whole else overhead):
            batch = self.tokenizer.pad({"input_ids": [ids[i] for i in chunk]}, return_tensors="np")
            logits, means = self.scorer(
                batch["input_ids"].astype(np.int64),
                batch["attention_mask"].astype(np.int64),
                layer_means=keep,
            )
            finite = np.isfinite(logits).all() and (means is None or np.isfinite(means).all())
            if not finite:
                raise StageError(f"stage {self.name!r} produced non-finite scores")
            for i, row in zip(chunk, softmax(logits).tolist(), strict=True):
                out[i] = row
            if means is not None:
                layers = means[:, self._kept_layers, :].reshape(len(chunk), -1)
                if kept is None:
                    kept = np.empty((len(ids), layers.shape[1]), dtype=np.float32)
                kept[chunk] = layers
        return out, kept

    def predict(self, texts: Sequence[str]) -> list[StageResult]:
        """Score each text and label it with the card's thresholds."""
        return [label_result(self.name, self.card, row) for row in self.probabilities(texts)]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    shifted: np.ndarray = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=-1, keepdims=True))


def label_result(name: str, card: StageCard, row: list[float]) -> StageResult:
    """A stage result from one text's probabilities and the card's thresholds."""
    scores = dict(zip(card.labels, row, strict=True))
    if card.task == "crisis":
        # Flag on the raw score (the threshold was tuned on it); report both on the
        # calibrated scale, which keeps their order.
        threshold = card.thresholds.get(CRISIS, DEFAULT_CRISIS_THRESHOLD)
        is_crisis = scores[CRISIS] >= threshold
        return StageResult(
            stage=name,
            label=CRISIS if is_crisis else NOT_CRISIS,
            scores={CRISIS: card.risk(scores[CRISIS])},
            threshold=card.risk(threshold),
        )
    label = max(scores, key=scores.__getitem__)
    threshold = card.thresholds.get(label, 0.0)
    return StageResult(
        stage=name,
        label=label,
        scores=scores,
        threshold=threshold,
        confident=scores[label] >= threshold,
    )
