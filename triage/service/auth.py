"""Who is calling: platform keys for the API, a session for the console."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from review_queue.accounts import authenticate
from review_queue.models import Principal, Role


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
    if not isinstance(principal, Principal) or principal.role not in (Role.COUNSELOR, Role.LEAD):
        raise LoginRequiredError()
    return principal


def lead_user(user: Annotated[Principal, Depends(console_user)]) -> Principal:
    """A logged-in lead (policy editing)."""
    if user.role != Role.LEAD:
        raise HTTPException(403, "only leads may edit the policy")
    return user
