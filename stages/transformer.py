"""A stage backed by a fine-tuned Hugging Face sequence classifier."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from stages.errors import ModelDirError, StageError
from stages.labels import CRISIS, NOT_CRISIS
from stages.model_dir import StageCard
from stages.normalize import model_text
from stages.results import StageResult
from stages.truncation import head_tail_chars, head_tail_ids, windows


def special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids a tokenizer puts before and after one sequence ([CLS] ... [SEP] for BERT)."""
    bare = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a", add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(bare) + 1):
        if full[start : start + len(bare)] == bare:
            return full[:start], full[start + len(bare) :]
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
    before, after = special_tokens(tokenizer)
    inner = max_length - len(before) - len(after)
    cut = [model_text(head_tail_chars(t, inner * max_windows, head_fraction)) for t in texts]
    ids = tokenizer(cut, add_special_tokens=False, truncation=False)["input_ids"]
    if max_windows == 1:
        return [[before + head_tail_ids(i, inner, head_fraction) + after] for i in ids]
    return [
        [before + w + after for w in windows(i, inner, max_windows, head_fraction)] for i in ids
    ]


class TransformerStage:
    """Scores texts with a sequence-classification model and applies the card's thresholds.

    ``source`` is a local model directory written by training, or a Hugging Face name (then
    labels come from the model config and thresholds default to 0.5 / none).
    """

    def __init__(
        self,
        name: str,
        source: str | Path,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        max_length: int | None = None,
    ) -> None:
        self.name = name
        self.source = str(source)
        self.device = torch.device(device)
        self.batch_size = batch_size
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.source)
            self.model = AutoModelForSequenceClassification.from_pretrained(self.source)
        except (OSError, ValueError) as exc:
            raise ModelDirError(
                f"cannot load stage {name!r} from {self.source!r}: {exc}. "
                "Train one with `triage train` (or `make demo`), or name a Hugging Face model."
            ) from exc
        self.model.to(self.device).eval()
        # Texts are tokenised whole and cut to the model's limit here (head+tail or windows),
        # so the tokenizer's "longer than the maximum" warning would only mislead.
        self.tokenizer.model_max_length = 1 << 30
        if Path(self.source, "config.json").exists() and Path(self.source).is_dir():
            self.card = StageCard.load(self.source)
        else:
            labels = [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]
            self.card = StageCard(task="crisis" if CRISIS in labels else "support", labels=labels)
        if len(self.card.labels) != self.model.config.num_labels:
            raise ModelDirError(
                f"{self.source}: card has {len(self.card.labels)} labels, "
                f"model has {self.model.config.num_labels} outputs"
            )
        self.max_length = max_length or self.card.max_length

    @torch.inference_mode()
    def probabilities(
        self, texts: Sequence[str], max_windows: int | None = None
    ) -> list[list[float]]:
        """Class probabilities per text (length-sorted batches, padded to the longest).

        With ``max_windows`` > 1 a long text is scored in overlapping windows and the window
        with the highest crisis probability (crisis stages) or the mean (others) is kept.
        """
        n_windows = max_windows or self.card.max_windows
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
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out: list[list[float]] = [[] for _ in ids]
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            batch = self.tokenizer.pad(
                {"input_ids": [ids[i] for i in chunk]}, return_tensors="pt"
            ).to(self.device)
            logits = self.model(**batch).logits.float()
            probs = torch.softmax(logits, dim=-1).cpu().tolist()
            for i, row in zip(chunk, probs, strict=True):
                if not all(math.isfinite(p) for p in row):
                    raise StageError(f"stage {self.name!r} produced non-finite scores")
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
