"""The only code that writes cases and routing decisions to the database.

A human case, its outbox row and the decision's audit record commit in one transaction
before ``route()`` returns. If the database cannot take them, they are appended to the local
spool (fsync'd) and replayed into the database later: nothing acknowledged is lost. The audit
records of decisions that open no case may be committed in small groups (``AuditGroup``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlmodel import Session, col, select

from policies.decision import Decision
from policies.schema import Policy
from review_queue import audit, schema
from review_queue.audit_group import AuditGroup
from review_queue.database import make_engine
from review_queue.models import Case, OutboxRow, utcnow
from review_queue.privacy import load_or_create_key, message_hmac, storable
from review_queue.spool import Spool
from stages.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

ROUTER = "router"


def case_row(
    decision: Decision, text: str, *, digest: str, policy: Policy, tenant: str | None = None
) -> Case:
    """The case for a human decision (message text only if the policy allows it)."""
    assert decision.case_id is not None and decision.priority is not None
    now = utcnow()
    sla = policy.actions[decision.action].sla_minutes if decision.action in policy.actions else 5
    return Case(
        id=decision.case_id,
        created_at=now,
        conversation_id=decision.conversation_id,
        message_id=decision.message_id,
        user_id=decision.user_id,
        platform_metadata=json.dumps(decision.metadata) if decision.metadata else None,
        tenant=tenant,
        action=decision.action,
        priority=decision.priority,
        crisis=decision.crisis,
        crisis_score=decision.crisis_score,
        support=decision.support,
        reasons=json.dumps(decision.reasons),
        decision=decision.model_dump_json(),
        policy_version=decision.policy_version,
        message_hmac=digest,
        message_length=len(text),
        message_text=storable(text) if policy.privacy.store_raw_text else None,
        sla_deadline=now + timedelta(minutes=sla) if sla else None,
    )


SHADOW_FIELDS = {"action", "human", "priority", "crisis", "crisis_score", "support", "reasons"}


def decision_event(
    decision: Decision,
    digest: str,
    tenant: str | None,
    shadow: Decision | None = None,
    shadow_name: str | None = None,
) -> audit.AuditEvent:
    """The audit event for a routing decision, with the shadow candidate's beside it."""
    payload = decision.model_dump(mode="json") | {"message_hmac": digest, "tenant": tenant}
    if shadow is not None:
        payload["shadow"] = {"name": shadow_name} | shadow.model_dump(
            mode="json", include=SHADOW_FIELDS
        )
    return audit.AuditEvent(
        event="decision", actor=ROUTER, payload=payload, case_id=decision.case_id
    )


class CaseStore:
    """Persists decisions and human cases; spools them when the database is down."""

    def __init__(
        self,
        database_url: str,
        *,
        state_dir: str | Path,
        hmac_key: bytes | None = None,
        timeout_s: float = 5.0,
        audit_group_size: int = 1,
        audit_group_seconds: float = 0.5,
    ) -> None:
        self.database_url = database_url
        self.state_dir = Path(state_dir)
        self.engine = make_engine(database_url, timeout_s=timeout_s)
        self.spool = Spool(self.state_dir / "spool.jsonl")
        self.rejected = Spool(self.state_dir / "spool.rejected.jsonl")
        self.anchor = self.state_dir / "audit.head"
        self.key = hmac_key or load_or_create_key(self.state_dir / "hmac.key")
        self._schema_ready = False
        self.audit_group = AuditGroup(
            self._commit_events,
            self._spool_events,
            size=audit_group_size,
            seconds=audit_group_seconds,
        )
        try:
            self.ensure_schema()
        except DatabaseUnavailableError as exc:
            log.error("database unavailable at start; cases will be spooled: %s", exc)

    def ensure_schema(self) -> None:
        """Once per process: create the schema in an empty database, or check its revision.

        ``SchemaRevisionError`` when the database is at another revision than the code (it is
        never upgraded silently: ``triage db upgrade``).
        """
        if self._schema_ready:
            return
        try:
            schema.prepare(self.engine)
        except (SQLAlchemyError, OSError) as exc:
            raise DatabaseUnavailableError(_short(exc)) from exc
        self._schema_ready = True

    def session(self) -> Session:
        """A session on this store's database (for the queue and the CLI)."""
        return Session(self.engine, expire_on_commit=False)

    def _rows(
        self,
        decisions: Sequence[Decision],
        texts: Sequence[str],
        policy: Policy,
        tenant: str | None,
        shadows: Sequence[Decision | None] | None,
    ) -> tuple[list[Case], list[audit.AuditEvent]]:
        cases, events = [], []
        shadows = shadows or [None] * len(decisions)
        name = policy.shadow.name if policy.shadow else None
        for decision, text, shadow in zip(decisions, texts, shadows, strict=True):
            digest = message_hmac(self.key, text)
            if decision.human and decision.case_id is not None:
                cases.append(case_row(decision, text, digest=digest, policy=policy, tenant=tenant))
            events.append(decision_event(decision, digest, tenant, shadow, name))
        return cases, events

    def record(
        self,
        decisions: Sequence[Decision],
        texts: Sequence[str],
        policy: Policy,
        *,
        tenant: str | None = None,
        shadows: Sequence[Decision | None] | None = None,
    ) -> None:
        """Commit cases, outbox rows and audit records in one transaction, or raise.

        A batch that opens no case joins the open audit group instead, unless the last commit
        failed: then it is committed now, so an outage is met by the fail-safe.
        """
        cases, events = self._rows(decisions, texts, policy, tenant, shadows)
        if not cases and self.audit_group.size > 1 and self.audit_group.healthy:
            self.audit_group.add(events)
            return
        try:
            self._commit_checked(cases, events)
        except DatabaseUnavailableError:
            self.audit_group.healthy = False
            raise
        self.audit_group.healthy = True
        if self.spool.pending():
            self.replay_spool()

    def flush(self) -> None:
        """Commit the open audit group now (for readers in this process, and at shutdown)."""
        self.audit_group.flush()

    def close(self) -> None:
        """Commit the open audit group and stop its thread."""
        self.audit_group.close()

    def _commit_checked(self, cases: list[Case], events: list[audit.AuditEvent]) -> None:
        try:
            self.ensure_schema()
            self._commit(cases, events)
        except (SQLAlchemyError, OSError, schema.SchemaRevisionError) as exc:
            self._schema_ready = False  # the database may come back empty: check again
            raise DatabaseUnavailableError(_short(exc)) from exc

    def _commit_events(self, events: list[audit.AuditEvent]) -> None:
        self._commit_checked([], events)

    def _spool_events(self, events: list[audit.AuditEvent]) -> None:
        if events:
            self.spool.append({"cases": [], "events": [_spooled(e) for e in events]})

    def _commit(self, cases: list[Case], events: list[audit.AuditEvent]) -> None:
        # Core inserts in one transaction: the ORM's unit of work cost more than the commit.
        with self.engine.begin() as conn:
            if cases:
                conn.execute(insert(Case), [c.model_dump() for c in cases])
                conn.execute(
                    insert(OutboxRow),
                    [OutboxRow(case_id=c.id).model_dump(exclude={"id"}) for c in cases],
                )
            head = audit.append(conn, events)
        if head is not None:
            audit.write_anchor(self.anchor, head)

    def spool_batch(
        self,
        decisions: Sequence[Decision],
        texts: Sequence[str],
        policy: Policy,
        *,
        tenant: str | None = None,
        shadows: Sequence[Decision | None] | None = None,
    ) -> None:
        """Durably keep a batch the database refused (raises OSError if the disk fails too)."""
        cases, events = self._rows(decisions, texts, policy, tenant, shadows)
        self.spool.append(
            {
                "cases": [c.model_dump(mode="json") for c in cases],
                "events": [_spooled(e) for e in events],
            }
        )

    def replay_spool(self) -> int:
        """Move spooled batches into the database; idempotent by case id."""
        try:
            self.ensure_schema()
            return self.spool.drain(self._replay)
        except (SQLAlchemyError, OSError, schema.SchemaRevisionError) as exc:
            log.warning("spool replay postponed: %s", _short(exc))
            return 0

    def _replay(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            try:
                self._replay_entry(entry)
            except (OperationalError, InterfaceError):
                raise  # the database is still unreachable: keep the spool, try later
            except (SQLAlchemyError, ValueError, KeyError, TypeError) as exc:
                # The database will never take this entry: keep it aside for a person rather
                # than let it block every entry behind it.
                log.critical("spool entry rejected by the database, quarantined: %s", _short(exc))
                self.rejected.append(entry)

    def _replay_entry(self, entry: dict[str, Any]) -> None:
        cases = [Case.model_validate(_parse_datetimes(raw)) for raw in entry["cases"]]
        events = [audit.AuditEvent(**ev) for ev in entry["events"]]
        with self.session() as session:
            # Replayed before a crash cut the spool's truncate short: skip, never duplicate.
            done = set(session.exec(select(Case.id).where(col(Case.id).in_([c.id for c in cases]))))
        self._commit(
            [c for c in cases if c.id not in done],
            [e for e in events if e.case_id is None or e.case_id not in done],
        )


def _spooled(event: audit.AuditEvent) -> dict[str, Any]:
    return {
        "event": event.event,
        "actor": event.actor,
        "payload": event.payload,
        "case_id": event.case_id,
        "at": event.at or utcnow().isoformat(),
    }


def _parse_datetimes(raw: dict[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    for key in ("created_at", "sla_deadline", "claim_expires_at", "delivered_at"):
        if isinstance(out.get(key), str):
            out[key] = datetime.fromisoformat(out[key])
    return out


def _short(exc: BaseException) -> str:
    """The error without the SQL statement and parameters (they may hold message data)."""
    orig = getattr(exc, "orig", None)
    return f"{type(exc).__name__}: {orig if orig is not None else str(exc).splitlines()[0]}"
