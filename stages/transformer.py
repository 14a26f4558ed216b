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

from stages.backends import TorchScorer, load_scorer, resolve_backend
from stages.batching import CPU_PASS_OVERHEAD_TOKENS, length_batches
from stages.errors import ModelDirError, StageError
from stages.labels import CRISIS, NOT_CRISIS
from stages.model_dir import StageCard
from stages.normalize import model_text
from stages.results import StageResult
from stages.truncation import head_tail_chars, head_tail_ids, windows

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
    cut = [model_text(head_tail_chars(t, max_tokens, head_fraction)) for t in texts]
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

    @property
    def model(self) -> Any:
        """The PyTorch model (``torch`` backend only)."""
        if not isinstance(self.scorer, TorchScorer):
            raise AttributeError(f"stage {self.name!r} runs on {self.backend}, not PyTorch")
        return self.scorer.model

    def probabilities(
        self, texts: Sequence[str], max_windows: int | None = None
    ) -> list[list[float]]:
        """Class probabilities per text (length-sorted batches, padded to the longest).

        With ``max_windows`` > 1 a long text is scored in overlapping windows and the window
        with the highest crisis probability (crisis stages) or the mean (others) is kept.
        """
        n_windows = max_windows or self.card.max_windows
        if self.tokens is not None and n_windows <= self._shared_windows:
            per_text = wrap_windows(
                self.tokenizer,
                self.tokens.ids(texts),
                self.max_length,
                self.card.head_fraction,
                n_windows,
            )
        else:
            per_text = encode_windows(
                self.tokenizer, texts, self.max_length, self.card.head_fraction, n_windows
            )
        flat = [w for ws in per_text for w in ws]
        rows = self._score_ids(flat)
        out, k = [], 0
        crisis = self.card.labels.index(CRISIS) if self.card.task == "crisis" else None
        for ws in per_text:
            chunk, k = rows[k : k + len(ws)], k + len(ws)
            if len(chunk) == 1:
                out.append(chunk[0])
            elif crisis is not None:
                out.append(max(chunk, key=lambda r: r[crisis]))
            else:
                out.append([sum(col) / len(chunk) for col in zip(*chunk, strict=True)])
        return out

    def _score_ids(self, ids: list[list[int]]) -> list[list[float]]:
        # Length-bucketed batches padded to their longest: short chat messages cost little.
        overhead = CPU_PASS_OVERHEAD_TOKENS if self.device.type == "cpu" else None
        out: list[list[float]] = [[] for _ in ids]
        for chunk in length_batches([len(i) for i in ids], self.batch_size, overhead):
            batch = self.tokenizer.pad({"input_ids": [ids[i] for i in chunk]}, return_tensors="np")
            logits = self.scorer(
                batch["input_ids"].astype(np.int64), batch["attention_mask"].astype(np.int64)
            )
            if not np.isfinite(logits).all():
                raise StageError(f"stage {self.name!r} produced non-finite scores")
            shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
            probs = (shifted / shifted.sum(axis=-1, keepdims=True)).tolist()
            for i, row in zip(chunk, probs, strict=True):
                out[i] = row
        return out

    def predict(self, texts: Sequence[str]) -> list[StageResult]:
        """Score each text and label it with the card's thresholds."""
        return [self._result(row) for row in self.probabilities(texts)]

    def _result(self, row: list[float]) -> StageResult:
        scores = dict(zip(self.card.labels, row, strict=True))
        if self.card.task == "crisis":
            threshold = self.card.thresholds.get(CRISIS, 0.5)
            is_crisis = scores[CRISIS] >= threshold
            return StageResult(
                stage=self.name,
                label=CRISIS if is_crisis else NOT_CRISIS,
                scores={CRISIS: scores[CRISIS]},
                threshold=threshold,
            )
        label = max(scores, key=scores.__getitem__)
        threshold = self.card.thresholds.get(label, 0.0)
        return StageResult(
            stage=self.name,
            label=label,
            scores=scores,
            threshold=threshold,
            confident=scores[label] >= threshold,
        )
