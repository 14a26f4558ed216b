"""`triage serve`: the HTTP API for chat platforms and the counselor console.

API (``api``): ``POST /v1/route``, ``POST /v1/route:batch`` (platform keys), ``GET /healthz``,
``GET /readyz``, ``GET /metrics`` (Prometheus). Console (``console``; counselor and lead keys,
session cookie): queue, case detail with claim / resolve / escalate / release, dashboard,
and for leads the policy editor with a load preview. Who may call what: ``auth``.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.middleware.sessions import SessionMiddleware

from review_queue.privacy import load_or_create_key
from review_queue.queue import ReviewQueue
from triage.facade import Triage
from triage.metrics import ServiceMetrics
from triage.service import api, console
from triage.service.api import BodyGuard
from triage.service.auth import LoginRequiredError

__all__ = ["create_app"]


def create_app(triage: Triage, *, policy_path: Path | None = None) -> FastAPI:
    """The FastAPI app around one ``Triage``; ``policy_path`` is the file leads edit."""
    app = FastAPI(
        title="crisis-triage",
        version="1",
        description="Route messages that need a person to a person, first.",
    )
    app.state.triage = triage
    app.state.queue = ReviewQueue(triage.store)
    app.state.metrics = ServiceMetrics(triage)
    app.state.policy_path = policy_path or triage.policies.path
    app.state.load_sample = None  # traffic scored by `triage load-report`, read on first preview
    secret = load_or_create_key(Path(triage.settings.state_dir) / "console.key").hex()
    app.add_middleware(SessionMiddleware, secret_key=secret, same_site="strict", max_age=8 * 3600)
    app.add_middleware(BodyGuard)
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(LoginRequiredError, _to_login)  # type: ignore[arg-type]
    app.include_router(api.router)
    app.include_router(console.router)
    return app


async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
    # FastAPI's default echoes the input with ensure_ascii=False, which cannot encode a lone
    # surrogate; escaped ASCII JSON can, so bad input stays a 422, never a 500.
    body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")


async def _to_login(request: Request, exc: LoginRequiredError) -> Response:
    return RedirectResponse("/console/login", status_code=303)
