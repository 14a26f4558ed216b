"""The HTTP API and console on a real port: auth, limits, fail-safe, policy edits, schema."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from local_services import free_port
from service_support import Running, serve
from tiny_models import tiny_stage

from policies.loader import default_policy_file
from review_queue.audit import verify
from triage import Triage


@pytest.fixture
def service(make_triage: Callable[..., Triage], tmp_path: Path) -> Iterator[Running]:
    policy = tmp_path / "policy.yaml"
    shutil.copyfile(default_policy_file(), policy)
    broker = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens: readiness must say so
    with serve(make_triage(policy_path=policy, broker_url=broker)) as running:
        yield running


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_route_needs_a_platform_key(service: Running) -> None:
    url = f"{service.url}/v1/route"
    assert httpx.post(url, json={"message": "hi"}).status_code == 401
    assert httpx.post(url, json={"message": "hi"}, headers=_auth("ct_wrong")).status_code == 401
    counselor = httpx.post(url, json={"message": "hi"}, headers=_auth(service.keys["counselor"]))
    assert counselor.status_code == 403
    ok = httpx.post(
        url,
        json={"message": "i want to kill myself", "region": "GB"},
        headers=_auth(service.keys["platform"]),
    )
    assert ok.status_code == 200
    body = ok.json()
    assert (
        body["human"] is True
        and body["case_id"]
        and "safety_net:self_harm_intent" in body["reasons"]
    )
    assert ok.json().keys() >= {"action", "crisis", "crisis_score", "policy_version", "evidence"}
    assert body["resources"][0]["region"] == "GB" and "116 123" in body["resources"][0]["text"]
    bad_region = httpx.post(
        url, json={"message": "hi", "region": "G B"}, headers=_auth(service.keys["platform"])
    )
    assert bad_region.status_code == 422 and "region" in bad_region.text


def test_batch_and_limits(service: Running) -> None:
    headers = _auth(service.keys["platform"])
    url = f"{service.url}/v1/route:batch"
    batch = {"messages": [{"message": "hello", "conversation_id": "c1"}, {"message": ""}]}
    two = httpx.post(url, json=batch, headers=headers)
    assert two.status_code == 200
    assert [d["conversation_id"] for d in two.json()] == ["c1", None]
    assert two.json()[1]["reasons"] == ["empty_message"]
    many = {"messages": [{"message": "x"}] * 257}
    assert httpx.post(url, json=many, headers=headers).status_code == 422
    # A client that cut an emoji in half still gets its message routed.
    half_emoji = (
        b'{"messages": [{"message": "i want to die \\ud83d", "conversation_id": "c\\udc00"}]}'
    )
    routed = httpx.post(
        url, content=half_emoji, headers=headers | {"content-type": "application/json"}
    )
    assert routed.status_code == 200 and routed.json()[0]["human"] is True
    assert routed.json()[0]["conversation_id"] == "c\ufffd"
    huge = httpx.post(f"{service.url}/v1/route", json={"message": "a" * 100_001}, headers=headers)
    assert huge.status_code == 422 and "100000" in huge.text
    body = b'{"message": "' + b"a" * (8 * 1024 * 1024) + b'"}'
    too_big = httpx.post(
        f"{service.url}/v1/route",
        content=body,
        headers=headers | {"content-type": "application/json"},
    )
    assert too_big.status_code == 413
    wrong_type = httpx.post(f"{service.url}/v1/route", json={"message": 42}, headers=headers)
    assert wrong_type.status_code == 422 and "message" in wrong_type.text


def test_model_failure_is_a_human_decision_not_a_500(
    make_triage: Callable[..., Triage], tmp_path: Path
) -> None:
    broken = tiny_stage(tmp_path / "broken", "crisis", corrupt=True)
    with serve(make_triage(crisis_model=str(broken))) as running:
        r = httpx.post(
            f"{running.url}/v1/route",
            json={"message": "what time is it"},
            headers=_auth(running.keys["platform"]),
        )
    assert r.status_code == 200
    assert r.json()["human"] is True and "fail_safe:model_error" in r.json()["reasons"]


def test_health_and_readiness(service: Running) -> None:
    assert httpx.get(f"{service.url}/healthz").json()["status"] == "ok"
    ready = httpx.get(f"{service.url}/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"models": True, "database": True, "broker": False}


def _login(client: httpx.Client, name: str, key: str) -> None:
    r = client.post("/console/login", data={"name": name, "key": key})
    assert r.status_code == 303 and r.headers["location"] == "/console"


def test_console_roles_and_policy_edit(service: Running) -> None:
    with httpx.Client(base_url=service.url) as counselor:
        assert counselor.get("/console").status_code == 303  # not logged in
        _login(counselor, "counselor", service.keys["counselor"])
        assert counselor.get("/console").status_code == 200
        edit = counselor.post("/console/policy", data={"policy_text": "version: x"})
        assert edit.status_code == 403
    policy_file = Path(service.triage.policies.path)
    original = policy_file.read_text()
    with httpx.Client(base_url=service.url) as lead:
        _login(lead, "lead", service.keys["lead"])
        bad = lead.post(
            "/console/policy",
            data={"policy_text": original.replace("sla_minutes: 5,", "sla_minutes: -5,", 1)},
        )
        assert bad.status_code == 200 and "sla_minutes" in bad.text and "line" in bad.text
        assert policy_file.read_text() == original  # an invalid policy is never written
        new = re.sub(r'version: "[^"]+"', 'version: "lead-edit-1"', original, count=1)
        assert new != original
        saved = lead.post("/console/policy", data={"policy_text": new})
        assert saved.status_code == 303
        page = lead.get("/console/policy").text
        assert "lead-edit-1" in page and "Policy lead-edit-1 saved" in page
    assert service.triage.policy.version == "lead-edit-1"
    with service.triage.store.session() as s:
        report = verify(s, service.triage.store.anchor)
    assert report.ok and report.records >= 4  # three keys + the policy edit


def test_openapi_contract(service: Running) -> None:
    """Schemathesis: generated requests for every API operation meet the published schema."""
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json")
    headers = _auth(service.keys["platform"])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /v1/route", "POST /v1/route:batch"}
    # /readyz answers 503 by design here (no broker runs); test_health_and_readiness covers it.
    for operation in [op for op in operations if op.label != "GET /readyz"]:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers)

        check()
