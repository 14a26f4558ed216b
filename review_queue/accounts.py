"""Credentials for the HTTP service: API keys for platforms, keys for counselors and leads.

Keys are random 192-bit secrets shown once; the database keeps their SHA-256 (a slow hash
adds nothing for secrets this long) and every change is an audit record.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import select

from review_queue import audit
from review_queue.models import Principal, Role
from review_queue.store import CaseStore

KEY_PREFIX = "ct_"


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def add_principal(store: CaseStore, name: str, role: Role | str, actor: str = "admin") -> str:
    """Create (or re-key) a principal; returns the new key, which is not stored anywhere."""
    role = Role(role)
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError("name must be 1-64 letters, digits, '-' or '_'")
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    with store.session() as s:
        s.merge(Principal(name=name, role=role, key_hash=hash_key(key)))
        head = audit.append(
            s, [audit.AuditEvent("principal_keyed", actor, {"name": name, "role": role.value})]
        )
        s.commit()
    if head is not None:
        audit.write_anchor(store.anchor, head)
    return key


def authenticate(store: CaseStore, key: str) -> Principal | None:
    """The principal holding ``key``, if any."""
    if not key.startswith(KEY_PREFIX) or len(key) > 128:
        return None
    with store.session() as s:
        return s.exec(select(Principal).where(Principal.key_hash == hash_key(key))).first()
