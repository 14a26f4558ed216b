"""Worker tasks. Each is idempotent: a redelivered task changes nothing the second time."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Celery, Task
from sqlalchemy.exc import SQLAlchemyError

from review_queue.queue import ReviewQueue

log = logging.getLogger(__name__)
MAX_DELIVERIES = 5
DELIVER_CASE = "review_queue.deliver_case"
SLA_ALERT = "review_queue.sla_alert"


def register_tasks(app: Celery, queue: Callable[[], ReviewQueue]) -> None:
    """Register the queue's tasks on ``app``; ``queue`` gives the worker's review queue."""

    @app.task(name=DELIVER_CASE, bind=True, max_retries=8)  # type: ignore[untyped-decorator]
    def deliver_case(self: Task, case_id: str) -> str:
        """Mark a case as seen by the queue (first delivery only) and count deliveries."""
        try:
            return queue().mark_delivered(case_id, max_deliveries=MAX_DELIVERIES)
        except SQLAlchemyError as exc:
            # The database is the record: retry with exponential backoff until it is back.
            raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc

    @app.task(name=SLA_ALERT)  # type: ignore[untyped-decorator]
    def sla_alert(case_id: str, priority: int) -> None:
        """Alert the on-call lead that a case waited past its SLA (log line for the pager)."""
        log.critical("SLA breached: case %s unclaimed, now priority %d", case_id, priority)
