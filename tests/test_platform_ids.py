"""The platform's ids and metadata: on the decision, the case, the audit record, the console."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from service_support import Running, serve
from sqlmodel import col, select

from review_queue.models import AuditRecord
from review_queue.queue import ReviewQueue
from triage import Triage

CRISIS = "i want to kill myself tonight"


def test_ids_and_metadata_follow_the_decision_to_case_audit_and_export(
    triage: Triage, tmp_path: Path
) -> None:
    d = triage.route(CRISIS, message_id="m-1", user_id="u-7", metadata={"channel": "sms"})
    assert (d.message_id, d.user_id, d.metadata) == ("m-1", "u-7", {"channel": "sms"})
    queue = ReviewQueue(triage.store)
    case = queue.get(str(d.case_id))
    assert (case.message_id, case.user_id) == ("m-1", "u-7")
    assert json.loads(case.platform_metadata or "{}") == {"channel": "sms"}
    with triage.store.session() as s:
        (payload,) = s.exec(
            select(AuditRecord.payload).where(col(AuditRecord.case_id) == d.case_id)
        ).all()
    assert json.loads(payload)["user_id"] == "u-7" and CRISIS not in payload

    queue.claim("alice", case.id)
    queue.resolve("alice", case.id, "false_alarm", corrected_label="emotional_support")
    out = tmp_path / "corrections.jsonl"
    queue.export_corrections(out)
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (row["message_id"], row["user_id"], row["metadata"]) == (
        "m-1",
        "u-7",
        {"channel": "sms"},
    )


def test_a_persons_cases_are_found_together(triage: Triage) -> None:
    first = triage.route(CRISIS, user_id="u-1")
    second = triage.route("i took all my pills", user_id="u-1")
    triage.route(CRISIS, user_id="u-2")
    queue = ReviewQueue(triage.store)
    assert [c.id for c in queue.cases_of("u-1")] == [first.case_id, second.case_id]
    assert [c.id for c in queue.cases_of("u-1", exclude=str(first.case_id))] == [second.case_id]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"user_id": 7}, TypeError),
        ({"message_id": "x" * 257}, ValueError),
        ({"metadata": ["channel", "sms"]}, TypeError),
        ({"metadata": {"channel": 3}}, TypeError),
        ({"metadata": {"": "sms"}}, ValueError),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, ValueError),
    ],
)
def test_bad_ids_and_metadata_get_a_clear_error(
    triage: Triage, kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error, match="user_id|message_id|metadata"):
        triage.route("hello", **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def service(make_triage: Callable[..., Triage]) -> Iterator[Running]:
    with serve(make_triage()) as running:
        yield running


def test_the_http_api_and_the_console_carry_the_ids(service: Running) -> None:
    headers = {"Authorization": f"Bearer {service.keys['platform']}"}
    url = f"{service.url}/v1/route"
    body = {"message": CRISIS, "message_id": "m-9", "user_id": "u-9", "metadata": {"app": "ios"}}
    first = httpx.post(url, json=body, headers=headers).json()
    second = httpx.post(url, json=body | {"message_id": "m-10"}, headers=headers).json()
    assert (first["message_id"], first["user_id"], first["metadata"]) == (
        "m-9",
        "u-9",
        {"app": "ios"},
    )
    bad = httpx.post(url, json=body | {"metadata": {"app": 1}}, headers=headers)
    assert bad.status_code == 422 and "metadata" in bad.text

    with httpx.Client(base_url=service.url) as counselor:
        login = counselor.post(
            "/console/login", data={"name": "counselor", "key": service.keys["counselor"]}
        )
        assert login.status_code == 303
        page = counselor.get(f"/console/cases/{second['case_id']}").text
    assert "m-10" in page and "u-9" in page and "ios" in page
    assert f'href="/console/cases/{first["case_id"]}"' in page  # the same person's other case
