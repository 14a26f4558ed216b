"""Conversation turns in Redis, so that every service replica sees every turn of a talk.

Each conversation is one Redis list of its last turns and a turn counter, both expiring with
the policy's TTL; keys are a hash of (tenant, conversation id), so tenants stay apart and no
id is readable in Redis. A turn is appended atomically (one Lua script), so two replicas
taking turns of one conversation at once number them without gaps or repeats.

Text is held only when the policy reads turns together. Point ``conversation_redis_url`` at a
Redis that never writes to disk (``--save "" --appendonly no``), not at the broker, which must.
"""

from __future__ import annotations

import hashlib
import json
import time

import redis

from policies.context import Turn
from policies.schema import ConversationSpec
from triage.conversation import ConversationKey, ConversationMemoryError, NewTurn

# KEYS: turns list, counter. ARGV: the turn without its number, earlier turns wanted, most
# turns kept, TTL in seconds. Returns the new turn's number and the earlier turns.
_APPEND = """
local n = redis.call('INCR', KEYS[2])
local wanted = tonumber(ARGV[2])
local earlier = {}
if wanted > 0 then earlier = redis.call('LRANGE', KEYS[1], -wanted, -1) end
redis.call('RPUSH', KEYS[1], n .. '|' .. ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {n, earlier}
"""


class RedisConversationMemory:
    """``ConversationMemory`` for several processes: the same ``record``, kept in Redis.

    After a failure Redis is left alone for ``retry_after_s``, so an outage costs one short
    timeout, not one per message.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        max_turns: int = 50,
        prefix: str = "triage:conversation:",
        retry_after_s: float = 5.0,
    ) -> None:
        self.client = client
        self.max_turns = max_turns
        self.prefix = prefix
        self.retry_after_s = retry_after_s
        self._append = client.register_script(_APPEND)
        self._down_until = 0.0

    @classmethod
    def from_url(cls, url: str, *, timeout_s: float = 0.25) -> RedisConversationMemory:
        """A memory on the Redis at ``url``, with short timeouts (routing must stay fast)."""
        client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        return cls(client)

    def _keys(self, key: ConversationKey) -> list[str]:
        digest = hashlib.sha256(json.dumps(list(key)).encode()).hexdigest()
        return [f"{self.prefix}{digest}:turns", f"{self.prefix}{digest}:count"]

    def record(
        self, key: ConversationKey, new: NewTurn, spec: ConversationSpec
    ) -> tuple[list[Turn], Turn]:
        """``TurnMemory.record``, in Redis (``ConversationMemoryError`` if unreachable)."""
        if time.monotonic() < self._down_until:
            raise ConversationMemoryError("conversation memory unavailable (backing off)")
        kept = new.text if spec.read_together else None
        entry = json.dumps([new.at, new.risk, kept])
        ttl = max(1, int(spec.ttl_minutes * 60))
        try:
            number, raw = self._append(
                keys=self._keys(key),
                args=[entry, spec.window_turns - 1, self.max_turns, ttl],
            )
        except redis.RedisError as exc:
            self._down_until = time.monotonic() + self.retry_after_s
            raise ConversationMemoryError(f"conversation memory: {type(exc).__name__}") from exc
        horizon = new.at - spec.ttl_minutes * 60
        earlier = [t for t in map(_turn, raw) if t.at >= horizon]
        return earlier, Turn(number=int(number), at=new.at, risk=new.risk, text=kept)


def _turn(raw: bytes) -> Turn:
    number, _, rest = raw.decode().partition("|")
    at, risk, text = json.loads(rest)
    return Turn(number=int(number), at=at, risk=risk, text=text)
