"""Worker tasks. Each is idempotent: a redelivered task changes nothing the second time."""

from __future__ import annotations

import logging
from functools import lru_cache

from celery import Task
from sqlalchemy.exc import SQLAlchemyError

from review_queue.celery_app import app
from review_queue.queue import ReviewQueue
from review_queue.store import CaseStore

log = logging.getLogger(__name__)
MAX_DELIVERIES = 5


@lru_cache(maxsize=1)
def _queue() -> ReviewQueue:
    from triage.settings import Settings

    s = Settings()
    return ReviewQueue(
        CaseStore(s.resolved_database_url(), state_dir=s.state_dir, hmac_key=s.hmac_key_bytes())
    )


@app.task(name="review_queue.deliver_case", bind=True, max_retries=8)
def deliver_case(self: Task, case_id: str) -> str:
    """Mark a case as seen by the queue (first delivery only) and count deliveries."""
    try:
        return _queue().mark_delivered(case_id, max_deliveries=MAX_DELIVERIES)
    except SQLAlchemyError as exc:
        # The database is the record: retry with exponential backoff until it is back.
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc


@app.task(name="review_queue.sla_alert")
def sla_alert(case_id: str, priority: int) -> None:
    """Alert the on-call lead that a case waited past its SLA (log line for the pager)."""
    log.critical("SLA breached: case %s unclaimed, now priority %d", case_id, priority)
