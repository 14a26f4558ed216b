"""The relay: the only code that publishes. Outbox rows -> Celery, at least once.

Each round claims due rows (pending, or stuck in "sending" longer than ``reclaim_after_s``
because a relay died mid-publish), publishes them with the case id as task id, and marks
them sent. A failed publish puts the row back with exponential backoff and jitter. Workers
are idempotent by case id, so a re-publish after a crash never makes a second case.
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import timedelta

from celery import Celery
from prometheus_client import Counter
from sqlalchemy import and_, or_, update
from sqlmodel import col, select

from review_queue.models import Case, OutboxRow, OutboxStatus, utcnow
from review_queue.store import CaseStore
from review_queue.tasks import DELIVER_CASE

log = logging.getLogger(__name__)

# Per relay process, on the default registry (`triage relay --metrics-port` serves it).
PUBLISHED = Counter("triage_relay_published", "Cases the relay published to the broker.")
PUBLISH_FAILURES = Counter(
    "triage_relay_publish_failures", "Publish attempts that failed (the row backs off, retried)."
)
REPUBLISHED = Counter(
    "triage_relay_republished", "Cases published again because no worker saw them in time."
)


class Relay:
    """Moves outbox rows to the broker."""

    def __init__(
        self,
        store: CaseStore,
        app: Celery,
        *,
        batch: int = 200,
        reclaim_after_s: float = 60.0,
        max_backoff_s: float = 60.0,
        redeliver_after_s: float = 300.0,
    ) -> None:
        self.store = store
        self.app = app
        self.batch = batch
        self.reclaim_after_s = reclaim_after_s
        self.max_backoff_s = max_backoff_s
        self.redeliver_after_s = redeliver_after_s

    def _claim(self) -> list[OutboxRow]:
        now = utcnow()
        stuck = now - timedelta(seconds=self.reclaim_after_s)
        with self.store.session() as s:
            due = or_(
                and_(
                    col(OutboxRow.status) == OutboxStatus.PENDING,
                    col(OutboxRow.next_attempt_at) <= now,
                ),
                and_(
                    col(OutboxRow.status) == OutboxStatus.SENDING, col(OutboxRow.claimed_at) < stuck
                ),
            )
            rows = list(
                s.exec(select(OutboxRow).where(due).order_by(col(OutboxRow.id)).limit(self.batch))
            )
            if rows:
                s.execute(
                    update(OutboxRow)
                    .where(col(OutboxRow.id).in_([r.id for r in rows]))
                    .values(status=OutboxStatus.SENDING, claimed_at=now)
                )
            s.commit()
        return rows

    def run_once(self) -> int:
        """One round; returns how many rows were published."""
        rows = self._claim()
        sent, failed = [], []
        for row in rows:
            try:
                self.app.send_task(
                    DELIVER_CASE,
                    args=[row.case_id],
                    task_id=f"case-{row.case_id}",
                    retry=True,
                    retry_policy={
                        "max_retries": 1,
                        "interval_start": 0,
                        "interval_step": 0.2,
                        "interval_max": 0.5,
                    },
                )
                sent.append(row)
            except Exception as exc:  # broker down: back off, the row stays in the outbox
                log.warning("publish failed for case %s: %s", row.case_id, exc)
                failed = [r for r in rows if r not in sent]
                break
        now = utcnow()
        with self.store.session() as s:
            if sent:
                s.execute(
                    update(OutboxRow)
                    .where(col(OutboxRow.id).in_([r.id for r in sent]))
                    .values(status=OutboxStatus.SENT, sent_at=now)
                )
            for row in failed:
                delay = min(2.0**row.attempts, self.max_backoff_s) * random.uniform(0.5, 1.5)
                s.execute(
                    update(OutboxRow)
                    .where(col(OutboxRow.id) == row.id)
                    .values(
                        status=OutboxStatus.PENDING,
                        attempts=row.attempts + 1,
                        next_attempt_at=now + timedelta(seconds=delay),
                    )
                )
            s.commit()
        PUBLISHED.inc(len(sent))
        PUBLISH_FAILURES.inc(1 if failed else 0)
        return len(sent)

    def requeue_undelivered(self) -> int:
        """Publish again cases sent long ago that no worker has seen (lost by the broker)."""
        cutoff = utcnow() - timedelta(seconds=self.redeliver_after_s)
        with self.store.session() as s:
            lost = select(Case.id).where(col(Case.delivered_at).is_(None))
            result = s.execute(
                update(OutboxRow)
                .where(
                    col(OutboxRow.status) == OutboxStatus.SENT,
                    col(OutboxRow.sent_at) < cutoff,
                    col(OutboxRow.case_id).in_(lost),
                )
                .values(status=OutboxStatus.PENDING, next_attempt_at=utcnow())
            )
            s.commit()
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        REPUBLISHED.inc(count)
        return count

    def pending(self) -> int:
        """Rows not yet sent."""
        with self.store.session() as s:
            return len(
                s.exec(select(OutboxRow.id).where(OutboxRow.status != OutboxStatus.SENT)).all()
            )

    def run_forever(self, stop: threading.Event, interval_s: float = 0.2) -> None:
        """Relay until ``stop`` is set."""
        rounds = 0
        while not stop.is_set():
            try:
                rounds += 1
                if rounds % 50 == 0:
                    self.requeue_undelivered()
                if self.run_once() == 0:
                    stop.wait(interval_s)
            except Exception as exc:  # the database may be down too: keep trying
                log.warning("relay round failed: %s", exc)
                stop.wait(interval_s * 5)
