"""Policy edits from the console: validate, write the file atomically, keep every version."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sqlmodel import col, select

from policies.loader import parse_policy
from policies.schema import Policy
from review_queue import audit
from review_queue.models import PolicyVersion
from review_queue.store import CaseStore


def save_policy(store: CaseStore, path: Path, text: str, author: str) -> Policy:
    """Validate ``text`` (raises ``PolicyError`` naming field and line), then make it live.

    The file is replaced atomically, so the hot-reloading holder never reads half a policy.
    """
    policy = parse_policy(text, source="console edit")
    digest = hashlib.sha256(text.encode()).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".policy-", suffix=".yaml")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    with store.session() as s:
        s.add(PolicyVersion(author=author, version=policy.version, sha256=digest, text=text))
        event = audit.AuditEvent(
            "policy_saved", author, {"version": policy.version, "sha256": digest}
        )
        audit.commit(s, [event], store.anchor)
    return policy


def history(store: CaseStore, limit: int = 20) -> list[PolicyVersion]:
    """The most recent saved versions, newest first."""
    with store.session() as s:
        stmt = select(PolicyVersion).order_by(col(PolicyVersion.id).desc()).limit(limit)
        return list(s.exec(stmt))
