"""Audit records of decisions that open no case, committed in small groups.

A decision that opens a case commits its case, outbox row and audit record before ``route()``
returns. A decision that opens no case only needs its audit record: paying a durable commit
for each of those was most of ``route()``'s time outside the models. They wait in an open group
that a background thread commits once it holds ``size`` records or ``seconds`` after its first
record, and at close or exit. A case commits alone, not waiting for the group: the chain's
order is the order of commits, and each record keeps the time it was routed.
Should the thread fall behind, ``route()`` commits the group itself at ``2 * size`` records.

What a crash can lose: the open group, that is fewer than ``2 * size`` audit records of
decisions that opened no case, routed in the last ``seconds`` (plus the time of one commit).
The chain stays whole (records are hashed when committed, in commit order).
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable

from review_queue.audit import AuditEvent
from review_queue.models import utcnow

log = logging.getLogger(__name__)


class AuditGroup:
    """Holds audit events until they are committed together by ``commit``.

    ``commit`` takes a list of events and raises when the database refuses them; ``keep``
    then saves them elsewhere (the spool). ``healthy`` is False from a failed commit until
    the owner sets it again after a commit of its own succeeds.
    """

    def __init__(
        self,
        commit: Callable[[list[AuditEvent]], None],
        keep: Callable[[list[AuditEvent]], None],
        *,
        size: int,
        seconds: float,
    ) -> None:
        if size < 1 or seconds <= 0:
            raise ValueError(
                f"an audit group needs size >= 1 and seconds > 0, got {size}, {seconds}"
            )
        self.size = size
        self.seconds = seconds
        self._commit = commit
        self._keep = keep
        self._events: list[AuditEvent] = []
        self._opened = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self.healthy = True
        self._flusher_pid = 0  # the flusher thread does not survive a fork: start one per process
        atexit.register(_flush_at_exit, weakref.ref(self))

    def add(self, events: list[AuditEvent]) -> None:
        """Keep events in the open group; commit it here if the background thread fell behind."""
        at = utcnow().isoformat()
        with self._lock:
            if not self._events:
                self._opened = time.monotonic()
            self._events += [e if e.at else _stamped(e, at) for e in events]
            full = len(self._events) >= 2 * self.size or self._closed
            self._start_flusher()
            self._wake.notify()
        if full:
            self.flush()

    def flush(self) -> None:
        """Commit the open group now; on failure ``keep`` saves it."""
        with self._lock:
            events, self._events = self._events, []
        if not events:
            return
        try:
            self._commit(events)
            return
        except Exception as exc:
            self.healthy = False
            log.error("audit group of %d records not committed, spooling: %s", len(events), exc)
        try:
            self._keep(events)
        except Exception:
            log.critical("spool write failed too; %d audit records not persisted", len(events))

    def close(self) -> None:
        """Commit what is open and stop the background thread; later events commit at once."""
        with self._lock:
            self._closed = True
            self._wake.notify()
        self.flush()

    def _start_flusher(self) -> None:
        if self._flusher_pid == os.getpid() or self.size == 1 or self._closed:
            return
        self._flusher_pid = os.getpid()
        threading.Thread(target=self._run, name="audit-group", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._events and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                due = self._opened + self.seconds - time.monotonic()
                if due > 0 and len(self._events) < self.size:
                    self._wake.wait(due)
                    continue
            self.flush()


def _stamped(event: AuditEvent, at: str) -> AuditEvent:
    """The event with the time it was routed, not the time its group was committed."""
    return dataclasses.replace(event, at=at)


def _flush_at_exit(ref: weakref.ref[AuditGroup]) -> None:
    group = ref()
    if group is not None:
        group.close()
