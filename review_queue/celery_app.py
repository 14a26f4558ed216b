"""The Celery app: Redis is the doorbell, the database is the record (at-least-once delivery).

Workers: ``celery -A review_queue.celery_app worker -Q cases --pool=solo`` (or prefork with
``-c N``), with ``TRIAGE_BROKER_URL`` and ``TRIAGE_DATABASE_URL`` set.
"""

from __future__ import annotations

import os

from celery import Celery

QUEUE = "cases"


def make_celery(broker_url: str | None = None, *, visibility_timeout_s: int = 3600) -> Celery:
    """A Celery app configured for at-least-once delivery of case notifications."""
    broker = broker_url or os.environ.get("TRIAGE_BROKER_URL", "redis://127.0.0.1:6379/0")
    app = Celery("triage", broker=broker, include=["review_queue.tasks"])
    app.conf.update(
        task_default_queue=QUEUE,
        task_acks_late=True,  # ack after the task ran, not when it was received
        task_reject_on_worker_lost=True,  # a SIGKILLed worker's task goes back to the queue
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            # Longer than any task; unacked tasks come back after it.
            "visibility_timeout": int(
                os.environ.get("TRIAGE_VISIBILITY_TIMEOUT_S", visibility_timeout_s)
            ),
        },
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        worker_hijack_root_logger=False,
    )
    return app


app = make_celery()
