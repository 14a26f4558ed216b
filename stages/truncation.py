"""Head+tail truncation: keep the opening and the end of a long text; or windows over it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Truncation(BaseModel):
    """How a stage cuts texts to its token budget: one place for the model card and training."""

    max_length: int = Field(default=256, ge=8, le=8192, description="Tokens per window.")
    head_fraction: float = Field(
        default=0.25,
        ge=0.0,
        le=1.0,
        description="Share of a long text's tokens kept from its start.",
    )
    max_windows: int = Field(
        default=1,
        ge=1,
        le=64,
        description="1: head+tail truncation. More: score long texts in up to this many "
        "overlapping windows (max-pooled for crisis).",
    )


# Characters per token is rarely above 10 for English WordPiece; cutting the raw text to this
# many characters per token first keeps tokenising a 10 MB message cheap.
_CHARS_PER_TOKEN = 12


def head_tail_chars(text: str, max_tokens: int, head_fraction: float) -> str:
    """Cut a very long text to its head and tail before tokenising (a cheap pre-cut)."""
    budget = max_tokens * _CHARS_PER_TOKEN
    if len(text) <= budget:
        return text
    head = int(budget * head_fraction)
    return text[:head] + " " + text[len(text) - (budget - head) :]


def head_tail_ids(ids: list[int], max_tokens: int, head_fraction: float) -> list[int]:
    """Keep ``max_tokens`` ids: a ``head_fraction`` share from the start, the rest from the end."""
    if len(ids) <= max_tokens:
        return ids
    head = int(max_tokens * head_fraction)
    return ids[:head] + ids[len(ids) - (max_tokens - head) :]


def windows(
    ids: list[int], max_tokens: int, max_windows: int, head_fraction: float = 0.25
) -> list[list[int]]:
    """Overlapping windows (half-window stride) covering ``ids``; at most ``max_windows``.

    Past that many windows the text is cut to its head and tail first (``head_fraction``).
    """
    stride = max(1, max_tokens // 2)
    budget = max_tokens + stride * (max_windows - 1)
    ids = head_tail_ids(ids, budget, head_fraction)
    starts = range(0, max(1, len(ids) - max_tokens + stride), stride)
    return [ids[s : s + max_tokens] for s in starts][:max_windows]
