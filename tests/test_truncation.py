"""Long texts: head+tail truncation and overlapping windows keep what matters; batching."""

from __future__ import annotations

from stages.batching import length_batches
from stages.truncation import head_tail_chars, head_tail_ids, windows


def test_head_tail_keeps_opening_and_end() -> None:
    ids = list(range(1000))
    kept = head_tail_ids(ids, 100, 0.25)
    assert kept[:25] == list(range(25)) and kept[25:] == list(range(925, 1000))
    assert head_tail_ids(ids[:50], 100, 0.25) == ids[:50]


def test_head_tail_chars_bounds_huge_text() -> None:
    text = "a" * 5_000_000 + "THE END"
    cut = head_tail_chars(text, 100, 0.25)
    assert len(cut) <= 100 * 12 + 1 and cut.endswith("THE END")


def test_windows_cover_start_and_end_with_overlap() -> None:
    ids = list(range(300))
    ws = windows(ids, 100, 8)
    assert ws[0][0] == 0 and ws[-1][-1] == 299
    assert all(len(w) == 100 for w in ws)
    assert set(ws[0]) & set(ws[1])  # half-window overlap
    assert len(windows(list(range(10_000)), 100, 8)) == 8
    assert windows(list(range(60)), 100, 8) == [list(range(60))]


def test_length_batches_pay_for_padding_and_passes_not_for_fixed_counts() -> None:
    # One long text in a batch of short ones would pad them all to its length.
    assert length_batches([5, 60, 5, 5, 5], 32, 15) == [[0, 2, 3, 4], [1]]
    # Equal lengths: batches as large as allowed, since every pass costs its overhead.
    assert [len(b) for b in length_batches([10] * 70, 32, 15)] == [6, 32, 32]
    # No overhead model (GPU): plain ascending batches of max_batch.
    assert length_batches([3, 50, 4, 51, 5], 2) == [[0, 2], [4, 1], [3]]
    lengths = [(i * 37) % 200 + 1 for i in range(500)]
    batches = length_batches(lengths, 32, 15)
    assert sorted(i for b in batches for i in b) == list(range(500))  # each text exactly once
    assert max(map(len, batches)) <= 32
    padded = sum(len(b) * max(lengths[i] for i in b) + 15 for b in batches)
    fixed = sum(len(b) * max(lengths[i] for i in b) + 15 for b in length_batches(lengths, 32))
    assert padded < fixed
