"""The audit chain: append-only records, each carrying the hash of the one before.

A chain detects an edited, deleted or reordered record. A cut tail or a full rewrite is only
detected against a head kept outside the database: every append writes the newest
``seq hash`` to an anchor file, and ``verify`` checks the chain still holds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Connection, insert, text
from sqlmodel import Session, col, select

from review_queue.models import AuditRecord, utcnow

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x7472696167  # "triag": one advisory lock id for the chain's writers
_ANCHOR_LOCK = threading.Lock()


def canonical(payload: dict[str, Any]) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept (surrogates escaped)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def record_hash(
    prev_hash: str, seq: int, at: str, event: str, case_id: str | None, actor: str, payload: str
) -> str:
    """SHA-256 over the previous hash and every field of the record."""
    body = canonical(
        {
            "prev": prev_hash,
            "seq": seq,
            "at": at,
            "event": event,
            "case_id": case_id,
            "actor": actor,
            "payload": payload,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class AuditEvent:
    """An event to append: what happened, to which case, by whom."""

    event: str
    actor: str
    payload: dict[str, Any]
    case_id: str | None = None
    at: str | None = None


class Head(NamedTuple):
    """The newest record of the chain: what the anchor file keeps."""

    seq: int
    hash: str


# Core statements, not ORM objects: a decision is appended on every route() call, and the
# unit of work cost more than the durable commit itself.
_HEAD = select(AuditRecord.seq, AuditRecord.hash).order_by(col(AuditRecord.seq).desc()).limit(1)
_INSERT = insert(AuditRecord)


def append(conn: Session | Connection, events: list[AuditEvent]) -> Head | None:
    """Append events to the chain inside the caller's transaction; returns the new head."""
    if not events:
        return None
    dialect = conn.dialect if isinstance(conn, Connection) else conn.get_bind().dialect
    if dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    last = conn.execute(_HEAD).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    rows = []
    for ev in events:
        seq += 1
        at = ev.at or utcnow().isoformat()
        payload = canonical(ev.payload)
        digest = record_hash(prev, seq, at, ev.event, ev.case_id, ev.actor, payload)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "event": ev.event,
                "case_id": ev.case_id,
                "actor": ev.actor,
                "payload": payload,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    conn.execute(_INSERT, rows)
    return Head(seq, prev)


def commit(session: Session, events: list[AuditEvent], anchor: Path) -> None:
    """Append events, commit the caller's transaction, then move the anchor to the new head."""
    head = append(session, events)
    session.commit()
    if head is not None:
        write_anchor(anchor, head)


def write_anchor(path: Path, head: Head) -> None:
    """Record the newest head outside the database (atomic replace); never move it back.

    Threads of one process commit concurrently (a web service routes on many threads): each
    writes its own temporary file, and a head older than the anchored one is not written.
    """
    with _ANCHOR_LOCK:
        if _anchored_seq(path) >= head.seq:
            return
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(f"{head.seq} {head.hash}\n")
        os.replace(tmp, path)


def _anchored_seq(path: Path) -> int:
    try:
        return int(path.read_text().split(" ", 1)[0])
    except (OSError, ValueError):
        return 0


@dataclass(frozen=True)
class VerifyReport:
    """Result of walking the chain."""

    ok: bool
    records: int
    first_broken_seq: int | None = None
    problem: str | None = None


def verify(session: Session, anchor: Path | None = None) -> VerifyReport:
    """Walk the chain in ``seq`` order; name the first record that does not fit."""
    prev, expected_seq, count = GENESIS, 1, 0
    by_seq: dict[int, str] = {}
    for rec in session.exec(select(AuditRecord).order_by(col(AuditRecord.seq))):
        count += 1
        if rec.seq != expected_seq:
            return VerifyReport(False, count, expected_seq, f"record {expected_seq} is missing")
        if rec.prev_hash != prev:
            return VerifyReport(False, count, rec.seq, "previous-hash link does not match")
        digest = record_hash(
            rec.prev_hash, rec.seq, rec.at, rec.event, rec.case_id, rec.actor, rec.payload
        )
        if digest != rec.hash:
            return VerifyReport(False, count, rec.seq, "record content does not match its hash")
        prev, expected_seq = rec.hash, expected_seq + 1
        by_seq[rec.seq] = rec.hash
    if anchor is not None and anchor.exists():
        seq_s, _, hash_s = anchor.read_text().strip().partition(" ")
        anchored = int(seq_s)
        if anchored not in by_seq:
            return VerifyReport(
                False,
                count,
                expected_seq,
                f"records from {expected_seq} to the anchored head {anchored} "
                "are missing (the chain was cut)",
            )
        if by_seq[anchored] != hash_s:
            return VerifyReport(
                False, count, anchored, "the anchored head differs (the chain was rewritten)"
            )
    return VerifyReport(True, count)
