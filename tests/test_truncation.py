"""Long texts: head+tail truncation and overlapping windows keep what matters."""

from __future__ import annotations

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
