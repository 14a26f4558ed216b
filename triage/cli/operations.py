"""Commands for counselors and operators: queue, keys, relay, audit, spool, database, shadow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from triage.cli.app import (
    app,
    audit_app,
    console,
    db_app,
    fail,
    queue_app,
    spool_app,
    users_app,
)


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Who: a platform or a person."),
    role: str = typer.Option(..., help="platform, counselor or lead."),
) -> None:
    """Create a key (or replace one); it is printed once and only its hash is stored."""
    from review_queue.accounts import add_principal

    try:
        key = add_principal(_store(), name, role)
    except ValueError as exc:
        fail(str(exc))
    console.print(f"key for {name} ({role}): {key}")


def _store() -> Any:
    from triage import Settings

    return Settings().case_store()


def _queue() -> Any:
    from review_queue.queue import ReviewQueue

    return ReviewQueue(_store())


def _queue_action(action: Any) -> Any:
    from stages.errors import QueueError

    try:
        return action()
    except QueueError as exc:
        fail(str(exc))


def _case_line(case: Any) -> str:
    return (
        f"{case.id}  p{case.priority}  {case.status.value:<9} {case.action:<20} "
        f"crisis={case.crisis} support={case.support} created={case.created_at:%H:%M:%S}"
    )


def _minutes(delta_s: float) -> str:
    sign = "-" if delta_s < 0 else ""
    return f"{sign}{int(abs(delta_s) // 60)}m{int(abs(delta_s) % 60):02d}s"


@queue_app.command("list")
def queue_list(limit: int = typer.Option(20, help="How many cases.")) -> None:
    """Open cases, most urgent first, then oldest, with waiting time and SLA countdown."""
    from review_queue.models import utcnow
    from review_queue.queue import as_utc

    now = utcnow()
    table = Table(title="review queue")
    for column in ("case", "pri", "status", "action", "support", "waiting", "SLA left"):
        table.add_column(column, no_wrap=True, min_width=len(column))
    table.columns[0].min_width = 8  # the id prefix that every queue command accepts
    for c in _queue().open_cases(limit):
        created, deadline = as_utc(c.created_at), as_utc(c.sla_deadline)
        table.add_row(
            c.id[:8],
            str(c.priority),
            c.status.value,
            c.action,
            c.support or "-",
            _minutes((now - created).total_seconds()) if created else "-",
            _minutes((deadline - now).total_seconds()) if deadline else "-",
        )
    console.print(table)


@queue_app.command("claim")
def queue_claim(
    counselor: str = typer.Option(..., help="Your counselor id."),
    case_id: str | None = typer.Argument(None, help="A case (default: the top one)."),
) -> None:
    """Claim a case; it is yours until you resolve, escalate or release it, or the lease ends."""
    queue = _queue()
    case = _queue_action(lambda: queue.claim(counselor, case_id and queue.find(case_id)))
    console.print(f"[green]claimed[/green] {_case_line(case)}")
    console.print(f"reasons: {json.loads(case.reasons)}")
    if case.message_text:
        console.print(f"message: {case.message_text}")


@queue_app.command("resolve")
def queue_resolve(
    case_id: str,
    counselor: str = typer.Option(...),
    outcome: str = typer.Option(
        ..., help="contacted, referred, emergency_services, no_action_needed or false_alarm"
    ),
    label: str | None = typer.Option(None, help="Corrected support class."),
    note: str | None = typer.Option(None),
) -> None:
    """Resolve a case you hold."""
    queue = _queue()
    case = _queue_action(
        lambda: queue.resolve(counselor, queue.find(case_id), outcome, label, note)
    )
    console.print(f"[green]resolved[/green] {_case_line(case)}")


@queue_app.command("escalate")
def queue_escalate(
    case_id: str, counselor: str = typer.Option(...), note: str | None = typer.Option(None)
) -> None:
    """Escalate a case you hold to a lead (top priority)."""
    queue = _queue()
    case = _queue_action(lambda: queue.escalate(counselor, queue.find(case_id), note))
    console.print(f"[yellow]escalated[/yellow] {_case_line(case)}")


@queue_app.command("release")
def queue_release(case_id: str, counselor: str = typer.Option(...)) -> None:
    """Put a case you hold back in the queue."""
    queue = _queue()
    case = _queue_action(lambda: queue.release(counselor, queue.find(case_id)))
    console.print(f"released {_case_line(case)}")


@queue_app.command("show")
def queue_show(case_id: str) -> None:
    """A case with its decision and audit history."""
    queue = _queue()
    case = _queue_action(lambda: queue.get(queue.find(case_id)))
    console.print(_case_line(case))
    console.print_json(case.decision)
    for event in queue.history(case.id):
        console.print(f"  #{event['seq']} {event['at']} {event['event']} by {event['actor']}")


@queue_app.command("export")
def queue_export(output: Path = typer.Option(..., help="JSON-lines file to write.")) -> None:
    """Resolved cases with outcomes and corrected labels, for retraining (text only if stored).

    Read back by ``triage train --feedback``.
    """
    count = _queue().export_corrections(output)
    console.print(f"wrote {count} resolved cases to {output}")


@app.command()
def relay(
    interval: float = typer.Option(0.2, help="Seconds between idle rounds."),
    sla_every: float = typer.Option(30.0, help="Seconds between SLA checks."),
    metrics_port: int | None = typer.Option(
        None, help="Serve Prometheus metrics (relay counters, the queue) on this port."
    ),
) -> None:
    """Publish outbox rows to the broker and run SLA checks, until interrupted."""
    import threading
    import time

    from review_queue.celery_app import make_celery
    from review_queue.relay import Relay
    from review_queue.tasks import SLA_ALERT
    from triage import Settings

    queue = _queue()
    if metrics_port is not None:
        from prometheus_client import REGISTRY, start_http_server

        from triage.metrics import QueueCollector

        REGISTRY.register(QueueCollector(queue.store))
        start_http_server(metrics_port)
    app_ = make_celery(Settings().broker_url)
    worker = Relay(queue.store, app_)
    stop = threading.Event()
    console.print("relay running (Ctrl-C to stop)")
    last_sla = 0.0
    try:
        while not stop.is_set():
            if worker.run_once() == 0:
                time.sleep(interval)
            if time.monotonic() - last_sla >= sla_every:
                last_sla = time.monotonic()
                for breach in queue.breach_sla():
                    app_.send_task(SLA_ALERT, args=[breach.case_id, breach.priority])
    except KeyboardInterrupt:
        stop.set()


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; name the first broken record."""
    from review_queue.audit import verify

    store = _store()
    with store.session() as session:
        report = verify(session, store.anchor)
    if not report.ok:
        fail(f"audit chain broken at record {report.first_broken_seq}: {report.problem}")
    console.print(f"[green]audit chain intact: {report.records} records[/green]")


@app.command("shadow-report")
def shadow_report(
    candidate: str | None = typer.Option(None, help="Candidate name (default: the latest)."),
    since: str | None = typer.Option(None, help="ISO-8601 UTC start, e.g. 2026-11-20."),
    examples: int = typer.Option(10, min=0, help="Disagreements to show."),
    out: Path | None = typer.Option(None, help="Also write the report here (.md and .json)."),
) -> None:
    """Compare the shadow candidate's decisions with the live ones (from the audit log)."""
    from review_queue.shadow_report import shadow_report as build
    from review_queue.shadow_report import to_markdown

    with _store().session() as session:
        report = build(session, candidate=candidate, since=since, examples=examples)
    text = to_markdown(report)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".md").write_text(text, encoding="utf-8")
        out.with_suffix(".json").write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    console.print(text, markup=False)


@spool_app.command("replay")
def spool_replay() -> None:
    """Move spooled cases into the database now."""
    console.print(f"replayed {_store().replay_spool()} spooled batches")


def _engine() -> Any:
    """The database the settings name, without the store's revision check."""
    from review_queue.database import make_engine
    from triage import Settings

    settings = Settings()
    return make_engine(settings.resolved_database_url(), timeout_s=settings.database_timeout_s)


@db_app.command("current")
def db_current() -> None:
    """The database's schema revision, and the one this code needs."""
    from review_queue.schema import current_revision, head_revision

    found, head = current_revision(_engine()), head_revision()
    state = "up to date" if found == head else "empty" if found is None else "behind: upgrade"
    console.print(f"database at {found or 'nothing'}; code needs {head} ({state})")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database to this code's schema (back it up first); safe to run again."""
    from review_queue.schema import upgrade

    before, after = upgrade(_engine())
    if before == after:
        console.print(f"database already at {after}")
    else:
        console.print(f"[green]database upgraded from {before or 'nothing'} to {after}[/green]")
