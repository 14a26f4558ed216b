"""Conversation memory in Redis: several service processes see one conversation's turns."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from local_services import RedisServer, ServiceProcess
from tests_support import (
    RISING,
    WINDOW_SPEC,
    assert_window_then_forgotten,
    rising_policy,
    settings_env,
)

from review_queue.accounts import add_principal
from triage import Triage
from triage.conversation import MEMORY_UNAVAILABLE, NewTurn
from triage.redis_memory import RedisConversationMemory

pytestmark = [pytest.mark.services]

SAME = {"action", "tier", "human", "priority"}
SPEC = WINDOW_SPEC  # window 5, TTL 30 minutes, concern 0.5 in 3 turns


@pytest.fixture
def memory_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "memory", persistent=False)
    server.start()
    yield server
    server.kill()


def test_redis_memory_keeps_a_bounded_window_tenants_apart_and_text_only_if_read(
    memory_server: RedisServer,
) -> None:
    memory = RedisConversationMemory.from_url(memory_server.url)
    later = assert_window_then_forgotten(memory)
    earlier, turn = memory.record(("u", "c"), NewTurn(later, 0.1, "hi"), SPEC)
    assert earlier == [] and turn.number == 1  # another tenant's conversation of that id
    reading = SPEC.model_copy(update={"read_together": True})
    memory.record(("t", "r"), NewTurn(later, 0.2, "first"), reading)
    earlier, _ = memory.record(("t", "r"), NewTurn(later, 0.3, "second"), reading)
    assert [x.text for x in earlier] == ["first"]
    client = memory_server.client()
    keys = client.keys("triage:conversation:*")
    assert keys and all(re.fullmatch(rb"[0-9a-f]{64}", k.split(b":")[2]) for k in keys)
    assert all(0 < client.ttl(k) <= SPEC.ttl_minutes * 60 for k in keys)
    assert client.config_get("appendonly")["appendonly"] == "no"


def test_two_service_processes_share_a_conversations_turns(
    make_triage: Callable[..., Triage], memory_server: RedisServer, tmp_path: Path
) -> None:
    policy = rising_policy(make_triage(), tmp_path / "policy.yaml")
    state = tmp_path / "shared-state"
    shared = make_triage(state_dir=state)
    env = settings_env(shared) | {
        "TRIAGE_POLICY_PATH": str(policy),
        "TRIAGE_CONVERSATION_REDIS_URL": memory_server.url,
        "HF_HUB_OFFLINE": "1",
    }
    key = add_principal(shared.store, "platform", "platform")
    services = [ServiceProcess(env, tmp_path / f"serve-{i}.log") for i in range(2)]
    try:
        for service in services:
            service.start()
        decisions = [
            httpx.post(
                f"{services[i % 2].url}/v1/route",  # the turns alternate between processes
                json={"message": text, "conversation_id": "talk-1"},
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            ).json()
            for i, text in enumerate(RISING)
        ]
    finally:
        for service in services:
            service.stop()
    one_process = make_triage(policy_path=policy)
    alone = [one_process.route(text, conversation_id="talk-1") for text in RISING]
    assert [d["turn"] for d in decisions] == [1, 2, 3] == [d.turn for d in alone]
    assert [d["action"] for d in decisions] == [d.action for d in alone]
    assert decisions[-1]["action"] == "urgent_human_review"
    assert "rising_risk:concern_turns:3/3" in decisions[-1]["reasons"]
    assert tuple(decisions[-1]["context_turns"]) == alone[-1].context_turns == (1, 2, 3)


def test_when_redis_is_down_each_message_is_judged_alone_and_says_so(
    make_triage: Callable[..., Triage], memory_server: RedisServer
) -> None:
    triage = make_triage(conversation_redis_url=memory_server.url)
    first = triage.route("i want to kill myself", conversation_id="c")
    assert first.turn == 1 and MEMORY_UNAVAILABLE not in first.reasons
    memory_server.kill()
    for message in ("i want to kill myself", "what time is it"):
        with_id = triage.route(message, conversation_id="c")
        alone = triage.route(message)
        assert with_id.turn is None and MEMORY_UNAVAILABLE in with_id.reasons
        assert (with_id.action, with_id.tier, with_id.human) == (
            alone.action,
            alone.tier,
            alone.human,
        )
