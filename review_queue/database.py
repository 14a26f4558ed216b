"""Engine creation (durable SQLite settings, serialised writers) and the audit triggers."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlmodel import create_engine

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON auditrecord
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON auditrecord
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
]
_POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit records are append-only'; END; $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS audit_no_change ON auditrecord",
    """CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON auditrecord
       FOR EACH ROW EXECUTE FUNCTION audit_append_only()""",
    "DROP TRIGGER IF EXISTS audit_no_truncate ON auditrecord",
    """CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON auditrecord
       FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()""",
]


def make_engine(url: str, *, timeout_s: float = 5.0) -> Engine:
    """An engine whose transactions take the write lock up front (audit chain order).

    SQLite: WAL with synchronous=FULL, ``BEGIN IMMEDIATE``, and pooled connections that are
    checked against the database file at every checkout, so a database that disappears is
    noticed at once. PostgreSQL: a transaction advisory lock taken by the store before
    appending to the chain.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        on_disk = bool(path) and path != ":memory:"
        if on_disk:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Pooled, not a connection per transaction: opening one, and the WAL checkpoint that
        # closing the last one runs, cost more than the durable commit itself.
        engine = create_engine(url, connect_args={"timeout": timeout_s, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
            if on_disk:
                record.info["file"] = _file_identity(path)

        if on_disk:

            @event.listens_for(engine, "checkout")
            def _on_checkout(_dbapi_conn, record, _proxy) -> None:  # type: ignore[no-untyped-def]
                # An open connection to a deleted or replaced file would go on writing to
                # the old inode, and its commits would be lost: reconnect instead.
                if record.info.get("file") != _file_identity(path):
                    raise DisconnectionError(f"{path} was removed or replaced")

        @event.listens_for(engine, "begin")
        def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": int(timeout_s)})


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def audit_triggers(dialect: str) -> list[str]:
    """The statements that make audit records append-only on this database dialect."""
    return list(_SQLITE_TRIGGERS if dialect == "sqlite" else _POSTGRES_TRIGGERS)
