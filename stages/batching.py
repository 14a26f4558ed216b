"""Length-bucketed batches: which sequences share one padded forward pass."""

from __future__ import annotations

from collections.abc import Sequence

# On this project's 2-core CPU one forward pass of a MiniLM-L6 stage costs about 4 ms plus
# 0.24 ms per padded token (ONNX Runtime fp32, one thread; reports/bench-pass-cost.md): a pass
# costs as much as 15-17 more tokens, and padding is paid in full.
CPU_PASS_OVERHEAD_TOKENS = 15


def length_batches(
    lengths: Sequence[int], max_batch: int, pass_overhead_tokens: int | None = None
) -> list[list[int]]:
    """Indices of ``lengths`` in ascending length, cut into batches of at most ``max_batch``.

    With ``pass_overhead_tokens`` the cuts minimise the padded tokens of every batch plus that
    overhead per batch (exact, by dynamic programming over the sorted lengths); without it
    batches are simply ``max_batch`` long, which suits a GPU where a pass is what costs.
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    if pass_overhead_tokens is None:
        return [order[i : i + max_batch] for i in range(0, len(order), max_batch)]
    sizes = [lengths[i] for i in order]
    cost = [0] * (len(sizes) + 1)  # cost[end]: the cheapest batching of sizes[:end]
    start_of = [0] * (len(sizes) + 1)
    for end in range(1, len(sizes) + 1):
        longest = sizes[end - 1]  # sorted: the last one sets the padding
        cost[end], start_of[end] = min(
            (cost[start] + pass_overhead_tokens + (end - start) * longest, start)
            for start in range(max(0, end - max_batch), end)
        )
    cuts, end = [], len(sizes)
    while end > 0:
        cuts.append((start_of[end], end))
        end = start_of[end]
    return [order[a:b] for a, b in reversed(cuts)]
