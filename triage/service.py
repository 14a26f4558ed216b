"""`triage serve`: the HTTP API for chat platforms and the counselor console.

API: ``POST /v1/route``, ``POST /v1/route:batch`` (platform keys), ``GET /healthz``,
``GET /readyz``. Console (counselor and lead keys, session cookie): queue, case detail with
claim / resolve / escalate / release, dashboard, and for leads the policy editor.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import statistics
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, text
from sqlmodel import col, select
from starlette.middleware.sessions import SessionMiddleware

from policies.decision import Decision
from policies.engine import fail_safe_decision, with_resources
from policies.load import load_table
from policies.loader import parse_policy_with_notices
from review_queue.accounts import authenticate
from review_queue.audit import AuditRecord
from review_queue.models import Case, CaseStatus, Principal, Role, utcnow
from review_queue.policy_history import history as policy_history
from review_queue.policy_history import save_policy
from review_queue.privacy import load_or_create_key
from review_queue.queue import OUTCOMES, QueueError, ReviewQueue, as_utc
from stages.errors import PolicyError
from stages.labels import SUPPORT_LABELS
from triage.facade import Triage
from triage.load_report import LOAD_SAMPLE_FILE, read_sample

log = logging.getLogger("triage.service")

MAX_MESSAGE_CHARS = 100_000
MAX_BATCH = 256
MAX_BODY_BYTES = 8 * 1024 * 1024


# Ids are opaque to us but are stored and logged: no NUL bytes (lone surrogates are refused later).
ConversationId = Annotated[str, Field(max_length=256, pattern="^[^\\x00]*$")]
Region = Annotated[str, Field(max_length=16, pattern="^[A-Za-z0-9_-]+$")]


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
            return await self.app(scope, receive, send)
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


def _principal_from_header(request: Request) -> Principal | None:
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else ""
    key = key or request.headers.get("x-api-key", "")
    return authenticate(request.app.state.triage.store, key) if key else None


def require_platform(request: Request) -> Principal:
    """API callers: a platform key (``Authorization: Bearer <key>`` or ``X-API-Key``)."""
    principal = _principal_from_header(request)
    if principal is None:
        raise HTTPException(401, "missing or unknown API key", {"WWW-Authenticate": "Bearer"})
    if principal.role != Role.PLATFORM:
        raise HTTPException(403, f"role {principal.role.value!r} may not route messages")
    return principal


class LoginRequiredError(Exception):
    """Raised by console dependencies; answered with a redirect to the login page."""


def console_user(request: Request) -> Principal:
    """A logged-in counselor or lead."""
    name = request.session.get("name")
    with request.app.state.triage.store.session() as s:
        principal = s.get(Principal, name) if name else None
    if principal is None or principal.role not in (Role.COUNSELOR, Role.LEAD):
        raise LoginRequiredError()
    return principal


def lead_user(user: Annotated[Principal, Depends(console_user)]) -> Principal:
    """A logged-in lead (policy editing)."""
    if user.role != Role.LEAD:
        raise HTTPException(403, "only leads may edit the policy")
    return user


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
                ),
                r.region,
            )
            for r in requests
        ]


def create_app(triage: Triage, *, policy_path: Path | None = None) -> FastAPI:
    """The FastAPI app around one ``Triage``; ``policy_path`` is the file leads edit."""
    app = FastAPI(
        title="crisis-triage",
        version="1",
        description="Route messages that need a person to a person, first.",
    )
    app.state.triage = triage
    app.state.queue = ReviewQueue(triage.store)
    app.state.policy_path = policy_path or triage.policies.path
    app.state.load_sample = None  # traffic scored by `triage load-report`, read on first preview
    secret = load_or_create_key(Path(triage.settings.state_dir) / "console.key").hex()
    app.add_middleware(SessionMiddleware, secret_key=secret, same_site="strict", max_age=8 * 3600)
    templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

    app.add_middleware(BodyGuard)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's default echoes the input with ensure_ascii=False, which cannot encode a
        # lone surrogate; escaped ASCII JSON can, so bad input stays a 422, never a 500.
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    @app.exception_handler(LoginRequiredError)
    async def to_login(request: Request, exc: LoginRequiredError) -> Response:
        return RedirectResponse("/console/login", status_code=303)

    # ---------------------------------------------------------------- API
    errors: dict[int | str, dict[str, Any]] = {
        401: {"description": "Missing or unknown API key"},
        403: {"description": "The key's role may not route"},
        413: {"description": "Body too large"},
    }

    @app.post("/v1/route", response_model=Decision, tags=["routing"], responses=errors)
    def route(
        body: RouteRequest, platform: Annotated[Principal, Depends(require_platform)]
    ) -> Decision:
        """Route one message (same decision as ``Triage().route``)."""
        return _safe_route(triage, [body], platform)[0]

    @app.post("/v1/route:batch", response_model=list[Decision], tags=["routing"], responses=errors)
    def route_batch(
        body: BatchRequest, platform: Annotated[Principal, Depends(require_platform)]
    ) -> list[Decision]:
        """Route up to 256 messages in one call."""
        return _safe_route(triage, body.messages, platform)

    @app.get("/healthz", response_model=Health, tags=["operations"])
    def healthz() -> Health:
        """The process is up."""
        return Health(status="ok")

    @app.get(
        "/readyz",
        response_model=Health,
        tags=["operations"],
        responses={503: {"model": Health, "description": "Not ready"}},
    )
    def readyz(response: Response) -> Health:
        """Models loaded, database and broker reachable."""
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

    # ---------------------------------------------------------------- console
    def page(request: Request, name: str, user: Principal | None, **context: Any) -> Response:
        flash = request.session.pop("flash", None)
        return templates.TemplateResponse(
            request, name, {"user": user, "flash": flash, "now": utcnow(), **context}
        )

    def flash(request: Request, message: str) -> None:
        request.session["flash"] = message

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/console", status_code=303)

    @app.get("/console/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request) -> Response:
        return page(request, "login.html", None)

    @app.post("/console/login", include_in_schema=False)
    def login(
        request: Request, name: Annotated[str, Form()], key: Annotated[str, Form()]
    ) -> Response:
        principal = authenticate(triage.store, key)
        if (
            principal is None
            or not secrets.compare_digest(principal.name, name)
            or principal.role not in (Role.COUNSELOR, Role.LEAD)
        ):
            flash(request, "Unknown name or key.")
            return RedirectResponse("/console/login", status_code=303)
        request.session["name"] = principal.name
        return RedirectResponse("/console", status_code=303)

    @app.post("/console/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/console/login", status_code=303)

    @app.get("/console", response_class=HTMLResponse, include_in_schema=False)
    def queue_view(request: Request, user: Annotated[Principal, Depends(console_user)]) -> Response:
        queue: ReviewQueue = app.state.queue
        cases = queue.open_cases(limit=100)
        with triage.store.session() as s:
            mine = list(
                s.exec(
                    select(Case).where(
                        Case.status == CaseStatus.CLAIMED, Case.claimed_by == user.name
                    )
                )
            )
        return page(request, "queue.html", user, cases=cases, mine=mine, as_utc=as_utc)

    @app.get("/console/cases/{case_id}", response_class=HTMLResponse, include_in_schema=False)
    def case_view(
        request: Request, case_id: str, user: Annotated[Principal, Depends(console_user)]
    ) -> Response:
        queue: ReviewQueue = app.state.queue
        try:
            case = queue.get(case_id)
        except QueueError as exc:
            raise HTTPException(404, str(exc)) from exc
        return page(
            request,
            "case.html",
            user,
            case=case,
            decision=json.loads(case.decision),
            reasons=json.loads(case.reasons),
            history=queue.history(case_id),
            outcomes=OUTCOMES,
            labels=SUPPORT_LABELS,
            as_utc=as_utc,
        )

    @app.post("/console/cases/{case_id}/{action}", include_in_schema=False)
    def case_action(
        request: Request,
        case_id: str,
        action: str,
        user: Annotated[Principal, Depends(console_user)],
        outcome: Annotated[str | None, Form()] = None,
        corrected_label: Annotated[str | None, Form()] = None,
        note: Annotated[str | None, Form()] = None,
    ) -> Response:
        queue: ReviewQueue = app.state.queue
        try:
            if action == "claim":
                queue.claim(user.name, case_id)
            elif action == "resolve":
                queue.resolve(user.name, case_id, outcome or "", corrected_label or None, note)
            elif action == "escalate":
                queue.escalate(user.name, case_id, note)
            elif action == "release":
                queue.release(user.name, case_id)
            else:
                raise HTTPException(404, f"no action {action!r}")
            flash(request, f"Case {case_id[:8]}: {action} done.")
        except QueueError as exc:
            flash(request, f"Could not {action}: {exc}")
        target = "/console" if action in ("resolve", "release", "escalate") else ""
        return RedirectResponse(target or f"/console/cases/{case_id}", status_code=303)

    @app.get("/console/dashboard", response_class=HTMLResponse, include_in_schema=False)
    def dashboard(request: Request, user: Annotated[Principal, Depends(console_user)]) -> Response:
        return page(request, "dashboard.html", user, **_dashboard_stats(triage))

    def policy_page(
        request: Request,
        user: Principal,
        text: str,
        error: str | None,
        preview: dict[str, Any] | None = None,
    ) -> Response:
        return page(
            request,
            "policy.html",
            user,
            text=text,
            path=app.state.policy_path,
            version=triage.policy.version,
            versions=policy_history(triage.store),
            error=error,
            preview=preview,
        )

    def load_preview(text: str) -> dict[str, Any]:
        """The load of an edited policy beside the one in force, on the scored traffic."""
        policy, notices = parse_policy_with_notices(text, source="console edit")
        if app.state.load_sample is None:
            app.state.load_sample = read_sample(triage.settings.state_dir / LOAD_SAMPLE_FILE)
        sample = app.state.load_sample
        if not sample:
            return {"version": policy.version, "notices": notices, "rows": None}
        edited, live = load_table(policy, sample), load_table(triage.policy, sample)
        return {
            "version": policy.version,
            "notices": notices,
            "rows": list(zip(edited, live, strict=True)),
        }

    @app.get("/console/policy", response_class=HTMLResponse, include_in_schema=False)
    def policy_view(
        request: Request, user: Annotated[Principal, Depends(console_user)]
    ) -> Response:
        return policy_page(request, user, app.state.policy_path.read_text(), None)

    @app.post("/console/policy", response_class=HTMLResponse, include_in_schema=False)
    def policy_save(
        request: Request,
        user: Annotated[Principal, Depends(lead_user)],
        policy_text: Annotated[str, Form()],
        intent: Annotated[str, Form()] = "save",
    ) -> Response:
        path: Path = app.state.policy_path
        if intent == "preview":  # what the edit would cost counselors; nothing is written
            try:
                preview = load_preview(policy_text)
            except PolicyError as exc:
                return policy_page(request, user, policy_text, str(exc))
            return policy_page(request, user, policy_text, None, preview)
        try:
            policy = save_policy(triage.store, path, policy_text, user.name)
        except PolicyError as exc:  # shown with the lead's text, nothing written
            return policy_page(request, user, policy_text, str(exc))
        triage.policies.reload_if_changed()
        flash(request, f"Policy {policy.version} saved and in force.")
        return RedirectResponse("/console/policy", status_code=303)

    return app


def _dashboard_stats(triage: Triage, hours: int = 12) -> dict[str, Any]:
    now = utcnow()
    since = now - timedelta(hours=hours)
    with triage.store.session() as s:
        routed = s.exec(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.event == "decision")
        ).one()
        humans = s.exec(select(func.count()).select_from(Case)).one()
        depth = s.exec(
            select(func.count())
            .select_from(Case)
            .where(col(Case.status).in_([CaseStatus.QUEUED, CaseStatus.ESCALATED]))
        ).one()
        recent = s.exec(
            select(AuditRecord.at, AuditRecord.event, AuditRecord.case_id)
            .where(col(AuditRecord.event).in_(["decision", "case_claimed"]))
            .where(AuditRecord.at >= since.isoformat())
        ).all()
        created = dict(s.exec(select(Case.id, Case.created_at).where(Case.created_at >= since)))
    per_hour: Counter[int] = Counter()
    waits = []
    for at, event, case_id in recent:
        when = datetime.fromisoformat(at)
        if event == "decision":
            per_hour[int((now - when).total_seconds() // 3600)] += 1
        elif case_id in created:
            start = as_utc(created[case_id])
            assert start is not None
            waits.append((when - start).total_seconds())
    bars = [(f"-{h}h", per_hour.get(h, 0)) for h in reversed(range(hours))]
    return {
        "routed": routed,
        "humans": humans,
        "human_share": humans / routed if routed else 0.0,
        "depth": depth,
        "wait_median_s": statistics.median(waits) if waits else None,
        "wait_max_s": max(waits) if waits else None,
        "bars": bars,
        "bar_max": max([n for _, n in bars] + [1]),
    }
