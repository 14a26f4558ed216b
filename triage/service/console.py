"""The counselors' console: the queue, a case, the dashboard, and for leads the policy editor.

Server-rendered Jinja2 pages behind a session cookie; every action is a queue operation and so
an audit record.
"""

from __future__ import annotations

import json
import secrets
import statistics
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func
from sqlmodel import col, select

from policies.load import load_table
from policies.loader import parse_policy_with_notices
from review_queue.accounts import authenticate
from review_queue.models import (
    OPEN_STATUSES,
    AuditRecord,
    Case,
    CaseStatus,
    Principal,
    Role,
    utcnow,
)
from review_queue.policy_history import history as policy_history
from review_queue.policy_history import save_policy
from review_queue.queue import OUTCOMES, ReviewQueue, as_utc
from stages.errors import PolicyError, QueueError
from stages.labels import SUPPORT_LABELS
from triage.facade import Triage
from triage.load_report import LOAD_SAMPLE_FILE, read_sample
from triage.service.auth import console_user, lead_user

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))
CurrentUser = Annotated[Principal, Depends(console_user)]


def page(request: Request, name: str, user: Principal | None, **context: Any) -> Response:
    """A console page, with the flash message of the last action."""
    flash_message = request.session.pop("flash", None)
    return templates.TemplateResponse(
        request, name, {"user": user, "flash": flash_message, "now": utcnow(), **context}
    )


def flash(request: Request, message: str) -> None:
    """A message for the next page."""
    request.session["flash"] = message


def _triage(request: Request) -> Triage:
    triage: Triage = request.app.state.triage
    return triage


def _queue(request: Request) -> ReviewQueue:
    queue: ReviewQueue = request.app.state.queue
    return queue


@router.get("/")
def home() -> Response:
    """The console is the home page."""
    return RedirectResponse("/console", status_code=303)


@router.get("/console/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """The login form."""
    return page(request, "login.html", None)


@router.post("/console/login")
def login(request: Request, name: Annotated[str, Form()], key: Annotated[str, Form()]) -> Response:
    """Log a counselor or lead in with their key."""
    principal = authenticate(_triage(request).store, key)
    if (
        principal is None
        or not secrets.compare_digest(principal.name, name)
        or principal.role not in (Role.COUNSELOR, Role.LEAD)
    ):
        flash(request, "Unknown name or key.")
        return RedirectResponse("/console/login", status_code=303)
    request.session["name"] = principal.name
    return RedirectResponse("/console", status_code=303)


@router.post("/console/logout")
def logout(request: Request) -> Response:
    """End the session."""
    request.session.clear()
    return RedirectResponse("/console/login", status_code=303)


@router.get("/console", response_class=HTMLResponse)
def queue_view(request: Request, user: CurrentUser) -> Response:
    """Open cases by priority and age, and the cases you hold."""
    cases = _queue(request).open_cases(limit=100)
    with _triage(request).store.session() as s:
        mine = list(
            s.exec(
                select(Case).where(Case.status == CaseStatus.CLAIMED, Case.claimed_by == user.name)
            )
        )
    return page(request, "queue.html", user, cases=cases, mine=mine, as_utc=as_utc)


@router.get("/console/cases/{case_id}", response_class=HTMLResponse)
def case_view(request: Request, case_id: str, user: CurrentUser) -> Response:
    """One case: scores, reasons, evidence, history."""
    queue = _queue(request)
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
        metadata=json.loads(case.platform_metadata or "{}"),
        same_person=queue.cases_of(case.user_id, exclude=case.id) if case.user_id else [],
        outcomes=OUTCOMES,
        labels=SUPPORT_LABELS,
        as_utc=as_utc,
    )


@router.post("/console/cases/{case_id}/{action}")
def case_action(
    request: Request,
    case_id: str,
    action: str,
    user: CurrentUser,
    outcome: Annotated[str | None, Form()] = None,
    corrected_label: Annotated[str | None, Form()] = None,
    note: Annotated[str | None, Form()] = None,
) -> Response:
    """Claim, resolve, escalate or release a case."""
    queue = _queue(request)
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


@router.get("/console/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, user: CurrentUser) -> Response:
    """Messages routed, share to people, queue depth, waits."""
    return page(request, "dashboard.html", user, **dashboard_stats(_triage(request)))


def _policy_page(
    request: Request,
    user: Principal,
    text: str,
    error: str | None,
    preview: dict[str, Any] | None = None,
) -> Response:
    triage = _triage(request)
    return page(
        request,
        "policy.html",
        user,
        text=text,
        path=request.app.state.policy_path,
        version=triage.policy.version,
        versions=policy_history(triage.store),
        error=error,
        preview=preview,
    )


def load_preview(request: Request, text: str) -> dict[str, Any]:
    """The load of an edited policy beside the one in force, on the scored traffic."""
    triage = _triage(request)
    policy, notices = parse_policy_with_notices(text, source="console edit")
    state = request.app.state
    if state.load_sample is None:  # traffic scored by `triage load-report`, read once
        state.load_sample = read_sample(triage.settings.state_dir / LOAD_SAMPLE_FILE)
    if not state.load_sample:
        return {"version": policy.version, "notices": notices, "rows": None}
    edited = load_table(policy, state.load_sample)
    live = load_table(triage.policy, state.load_sample)
    return {
        "version": policy.version,
        "notices": notices,
        "rows": list(zip(edited, live, strict=True)),
    }


@router.get("/console/policy", response_class=HTMLResponse)
def policy_view(request: Request, user: CurrentUser) -> Response:
    """The policy in force and its history."""
    return _policy_page(request, user, request.app.state.policy_path.read_text(), None)


@router.post("/console/policy", response_class=HTMLResponse)
def policy_save(
    request: Request,
    user: Annotated[Principal, Depends(lead_user)],
    policy_text: Annotated[str, Form()],
    intent: Annotated[str, Form()] = "save",
) -> Response:
    """Preview an edit's load, or validate and save it."""
    triage = _triage(request)
    if intent == "preview":  # what the edit would cost counselors; nothing is written
        try:
            preview = load_preview(request, policy_text)
        except PolicyError as exc:
            return _policy_page(request, user, policy_text, str(exc))
        return _policy_page(request, user, policy_text, None, preview)
    try:
        policy = save_policy(triage.store, request.app.state.policy_path, policy_text, user.name)
    except PolicyError as exc:  # shown with the lead's text, nothing written
        return _policy_page(request, user, policy_text, str(exc))
    triage.policies.reload_if_changed()
    flash(request, f"Policy {policy.version} saved and in force.")
    return RedirectResponse("/console/policy", status_code=303)


def dashboard_stats(triage: Triage, hours: int = 12) -> dict[str, Any]:
    """Messages routed, the share sent to people, queue depth, waits, decisions per hour."""
    now = utcnow()
    since = now - timedelta(hours=hours)
    with triage.store.session() as s:
        routed = s.exec(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.event == "decision")
        ).one()
        humans = s.exec(select(func.count()).select_from(Case)).one()
        depth = s.exec(
            select(func.count()).select_from(Case).where(col(Case.status).in_(OPEN_STATUSES))
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
