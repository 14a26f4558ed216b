"""The HTTP API: ``POST /v1/route``, ``POST /v1/route:batch``, health, Prometheus metrics."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from sqlalchemy import text

from policies.decision import Decision
from policies.engine import fail_safe_decision, with_resources
from review_queue.models import Principal
from triage.facade import Triage
from triage.inputs import MAX_METADATA_KEYS
from triage.service.auth import require_platform

log = logging.getLogger("triage.service")

MAX_MESSAGE_CHARS = 100_000
MAX_BATCH = 256
MAX_BODY_BYTES = 8 * 1024 * 1024


# Ids are opaque to us but are stored and logged: no NUL bytes (lone surrogates are refused later).
_NO_NUL = "^[^\\x00]*$"
ConversationId = Annotated[str, Field(max_length=256, pattern=_NO_NUL)]
Region = Annotated[str, Field(max_length=16, pattern="^[A-Za-z0-9_-]+$")]
MetadataKey = Annotated[str, Field(min_length=1, max_length=64, pattern=_NO_NUL)]
# Pydantic writes a key pattern as patternProperties, which admits other keys; say it plainly.
Metadata = Annotated[
    dict[MetadataKey, ConversationId],
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_METADATA_KEYS,
            "propertyNames": {"minLength": 1, "maxLength": 64, "pattern": _NO_NUL},
            "additionalProperties": {"type": "string", "maxLength": 256, "pattern": _NO_NUL},
        }
    ),
]


class RouteRequest(BaseModel):
    """One message to route."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(max_length=MAX_MESSAGE_CHARS, description="The message text.")
    conversation_id: ConversationId | None = Field(
        default=None, description="Lets the conversation's recent turns count (rising risk)."
    )
    region: Region | None = Field(
        default=None, description="The user's region (e.g. GB): picks resource texts."
    )
    message_id: ConversationId | None = Field(
        default=None, description="Your id of the message: kept on the case and audit record."
    )
    user_id: ConversationId | None = Field(
        default=None, description="Your id of the writer: the queue shows their cases together."
    )
    metadata: Metadata | None = Field(
        default=None,
        max_length=MAX_METADATA_KEYS,
        description="Up to 16 short string pairs kept with the case (never the message text).",
    )


class BatchRequest(BaseModel):
    """Several messages to route in one call, each with its own conversation id."""

    model_config = ConfigDict(extra="forbid")

    messages: list[RouteRequest] = Field(min_length=1, max_length=MAX_BATCH)


class Health(BaseModel):
    """Liveness / readiness report."""

    status: str
    checks: dict[str, bool] = Field(default_factory=dict)
    detail: dict[str, str] = Field(default_factory=dict)


# A JSON client that cut a string inside an emoji sends a lone surrogate escape. Pydantic
# refuses such a string; a message from a person in crisis must not be refused for it, so the
# half-emoji becomes U+FFFD (as the model input would have it anyway).
_LONE_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _replace_lone_surrogates(body: bytes) -> bytes:
    try:
        value = json.loads(body)
    except ValueError:
        return body  # not JSON: let validation answer

    def fix(v: Any) -> Any:
        if isinstance(v, str):
            return v.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        return v

    return json.dumps(fix(value)).encode()


class BodyGuard:
    """ASGI middleware: refuse bodies over ``MAX_BODY_BYTES`` (413), repair half emoji."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Buffer a POST body (bounded), then hand the request on."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                too_big = JSONResponse({"detail": f"body over {MAX_BODY_BYTES} bytes"}, 413)
                return await too_big(scope, receive, send)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if scope["path"].startswith("/v1/") and _LONE_SURROGATE_ESCAPE.search(body):
            body = _replace_lone_surrogates(body)
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return dict(await receive())
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _safe_route(
    triage: Triage, requests: list[RouteRequest], platform: Principal
) -> list[Decision]:
    # A platform whose name is a configured tenant routes under that tenant's policy.
    tenant = platform.name if platform.name in triage.tenant_policies else None
    try:
        return triage.route_many(
            [r.message for r in requests],
            conversation_ids=[r.conversation_id for r in requests],
            tenant=tenant,
            regions=[r.region for r in requests],
            message_ids=[r.message_id for r in requests],
            user_ids=[r.user_id for r in requests],
            metadata=[r.metadata for r in requests],
        )
    except (TypeError, ValueError) as exc:  # the caller's input (e.g. a lone surrogate in an id)
        detail = [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]
        raise HTTPException(422, detail) from exc
    except Exception:  # route_many is fail-safe already; this guards the guard
        log.exception("route_many raised; answering with fail-safe decisions")
        policy = triage.policy_for(tenant).policy
        return [
            with_resources(
                policy,
                fail_safe_decision(
                    policy,
                    "internal_error",
                    message_length=len(r.message),
                    conversation_id=r.conversation_id,
                ).model_copy(update=r.model_dump(include={"message_id", "user_id", "metadata"})),
                r.region,
            )
            for r in requests
        ]


router = APIRouter()
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or unknown API key"},
    403: {"description": "The key's role may not route"},
    413: {"description": "Body too large"},
}


@router.post("/v1/route", response_model=Decision, tags=["routing"], responses=_ERRORS)
def route(
    request: Request,
    body: RouteRequest,
    platform: Annotated[Principal, Depends(require_platform)],
) -> Decision:
    """Route one message (same decision as ``Triage().route``)."""
    return _measured_route(request, "route", [body], platform)[0]


@router.post("/v1/route:batch", response_model=list[Decision], tags=["routing"], responses=_ERRORS)
def route_batch(
    request: Request,
    body: BatchRequest,
    platform: Annotated[Principal, Depends(require_platform)],
) -> list[Decision]:
    """Route up to 256 messages in one call."""
    return _measured_route(request, "route_batch", body.messages, platform)


def _measured_route(
    request: Request, endpoint: str, requests: list[RouteRequest], platform: Principal
) -> list[Decision]:
    started = time.perf_counter()
    decisions = _safe_route(request.app.state.triage, requests, platform)
    request.app.state.metrics.observe(endpoint, time.perf_counter() - started, decisions)
    return decisions


@router.get("/metrics", tags=["operations"], response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus metrics: routing latency, decisions, fail-safes, versions, the queue."""
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz", response_model=Health, tags=["operations"])
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    tags=["operations"],
    responses={503: {"model": Health, "description": "Not ready"}},
)
def readyz(request: Request, response: Response) -> Health:
    """Models loaded, database and broker reachable."""
    triage: Triage = request.app.state.triage
    checks, detail = {"models": True}, {}
    try:
        with triage.store.session() as s:
            s.exec(text("SELECT 1"))  # type: ignore[call-overload]
        checks["database"] = True
    except Exception as exc:
        checks["database"], detail["database"] = False, type(exc).__name__
    try:
        import redis

        redis.Redis.from_url(
            triage.settings.broker_url, socket_timeout=0.5, socket_connect_timeout=0.5
        ).ping()
        checks["broker"] = True
    except Exception as exc:
        checks["broker"], detail["broker"] = False, type(exc).__name__
    ok = all(checks.values())
    response.status_code = 200 if ok else 503
    return Health(status="ready" if ok else "not_ready", checks=checks, detail=detail)
