"""Conversations: recent turns in memory (bounded by a TTL and a size), and their rising risk.

``ConversationMemory`` keeps turns in this process; ``triage.redis_memory`` keeps them in
Redis for several processes. Both follow ``TurnMemory``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from policies.context import (
    ContextSignal,
    Turn,
    concern_signal,
    contributing_turns,
    join_turns,
    review_threshold,
    turn_risk,
)
from policies.schema import ConversationSpec, Policy
from stages.errors import TriageError
from stages.labels import CRISIS
from stages.results import StageResult

ConversationKey = tuple[str | None, str]  # (tenant, conversation id)
MEMORY_UNAVAILABLE = "conversation_memory_unavailable"


class ConversationMemoryError(TriageError):
    """The conversation memory cannot be reached: each message is judged alone."""


@dataclass(frozen=True)
class NewTurn:
    """A message about to become a turn: when (epoch seconds), its risk, and its text."""

    at: float
    risk: float | None
    text: str | None


class TurnMemory(Protocol):
    """Where the turns of conversations are kept."""

    def record(
        self, key: ConversationKey, new: NewTurn, spec: ConversationSpec
    ) -> tuple[list[Turn], Turn]:
        """Add ``new`` as the next turn; return the earlier turns of its window and the turn.

        The text is kept only when ``spec`` reads turns together.
        """
        ...


class ConversationMemory:
    """The last turns of each conversation, bounded in turns, age and conversations.

    At most ``max_turns`` per conversation; turns older than the policy's TTL are forgotten;
    beyond ``max_conversations`` the least recently seen conversation is dropped.

    Text is held only when the policy reads turns together, and only here: never on disk.
    Several service processes share turns through ``RedisConversationMemory`` instead.
    """

    def __init__(self, *, max_conversations: int = 100_000, max_turns: int = 50) -> None:
        self.max_conversations = max_conversations
        self.max_turns = max_turns
        self._turns: OrderedDict[ConversationKey, deque[Turn]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._turns)

    def record(
        self, key: ConversationKey, new: NewTurn, spec: ConversationSpec
    ) -> tuple[list[Turn], Turn]:
        """``TurnMemory.record``, in this process."""
        with self._lock:
            turns = self._turns.pop(key, None) or deque(maxlen=self.max_turns)
            number = turns[-1].number + 1 if turns else 1
            horizon = new.at - spec.ttl_minutes * 60
            while turns and turns[0].at < horizon:
                turns.popleft()
            window = list(turns)[-(spec.window_turns - 1) :]
            text = new.text if spec.read_together else None
            turn = Turn(number=number, at=new.at, risk=new.risk, text=text)
            turns.append(turn)
            self._turns[key] = turns  # most recently seen last
            while len(self._turns) > self.max_conversations:
                self._turns.popitem(last=False)
        return window, turn


Score = Callable[[list[str]], list[StageResult]]


@dataclass
class ConversationContext:
    """Per message of a batch: its turn, the rising-risk signal, and a note for its reasons."""

    turns: list[int | None]
    signals: list[ContextSignal | None]
    notes: list[str | None]


def conversation_turns(
    memory: TurnMemory,
    policy: Policy,
    tenant: str | None,
    texts: list[str],
    ids: list[str | None],
    safety: list[StageResult],
    crisis: list[StageResult],
    score: Score,
) -> ConversationContext:
    """Record each message as a turn of its conversation; say which conversations rise.

    ``score`` is stage one on a list of texts (for the turns read together). When the memory
    cannot be reached, a message is judged alone and says so (``MEMORY_UNAVAILABLE``).
    """
    n = len(texts)
    out = ConversationContext([None] * n, [None] * n, [None] * n)
    turns, signals = out.turns, out.signals
    if not policy.rules.rising_risk:
        return out
    spec = policy.conversation
    together: dict[int, list[Turn]] = {}
    now = time.time()
    for j, cid in enumerate(ids):  # in order: a batch may hold several turns of one talk
        if cid is None:
            continue
        try:
            new = NewTurn(now, turn_risk(policy, safety[j], crisis[j]), texts[j])
            earlier, turn = memory.record((tenant, cid), new, spec)
        except ConversationMemoryError:
            out.notes[j] = MEMORY_UNAVAILABLE
            continue
        turns[j] = turn.number
        window = [*earlier, turn]
        signals[j] = concern_signal(spec, window)
        if signals[j] is None and spec.read_together and earlier:
            together[j] = window
    for j, signal in read_together(policy, together, score).items():
        signals[j] = signal
    return out


def read_together(
    policy: Policy, windows: dict[int, list[Turn]], score: Score
) -> dict[int, ContextSignal | None]:
    """Stage one on each window's turns joined into one text.

    For a window that reaches the review threshold, the contributing turns are those whose
    removal lowers its score most (occlusion over turns).
    """
    if not windows:
        return {}
    keys = list(windows)
    results = score([join_turns(windows[j]) for j in keys])
    out: dict[int, ContextSignal | None] = {}
    passed = []
    for j, result in zip(keys, results, strict=True):
        if not result.ok:  # could not read the conversation: a person does
            out[j] = ContextSignal("rising_risk:read_together_failed", ())
            continue
        risk, threshold = result.scores.get(CRISIS, 0.0), review_threshold(policy, result)
        if risk >= threshold:
            passed.append((j, risk, threshold))
    leave_one_out = [
        join_turns(windows[j][:k] + windows[j][k + 1 :])
        for j, _, _ in passed
        for k in range(len(windows[j]))
    ]
    scored_without = iter(score(leave_one_out))
    for j, risk, threshold in passed:
        without = [next(scored_without).scores.get(CRISIS, 0.0) for _ in windows[j]]
        out[j] = ContextSignal(
            f"rising_risk:read_together:{risk:.2f}>={threshold:.2f}",
            contributing_turns(windows[j], risk, without),
        )
    return out
