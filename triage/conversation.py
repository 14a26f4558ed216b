"""Recent turns per conversation, kept in process memory with a TTL and a size bound."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque

from policies.context import Turn
from policies.schema import ConversationSpec

ConversationKey = tuple[str | None, str]  # (tenant, conversation id)


class ConversationMemory:
    """The last turns of each conversation, bounded in turns, age and conversations.

    At most ``max_turns`` per conversation; turns older than the policy's TTL are forgotten;
    beyond ``max_conversations`` the least recently seen conversation is dropped.

    Text is held only when the policy reads turns together, and only here: never on disk.
    A service with several processes should send a conversation to the same process.
    """

    def __init__(self, *, max_conversations: int = 100_000, max_turns: int = 50) -> None:
        self.max_conversations = max_conversations
        self.max_turns = max_turns
        self._turns: OrderedDict[ConversationKey, deque[Turn]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._turns)

    def record(
        self,
        key: ConversationKey,
        *,
        risk: float | None,
        text: str | None,
        spec: ConversationSpec,
        now: float,
    ) -> tuple[list[Turn], Turn]:
        """Add this message's turn; return the earlier turns of its window and the new turn."""
        with self._lock:
            turns = self._turns.pop(key, None) or deque(maxlen=self.max_turns)
            number = turns[-1].number + 1 if turns else 1
            horizon = now - spec.ttl_minutes * 60
            while turns and turns[0].at < horizon:
                turns.popleft()
            window = list(turns)[-(spec.window_turns - 1) :]
            turn = Turn(number=number, at=now, risk=risk, text=text if spec.read_together else None)
            turns.append(turn)
            self._turns[key] = turns  # most recently seen last
            while len(self._turns) > self.max_conversations:
                self._turns.popitem(last=False)
        return window, turn
