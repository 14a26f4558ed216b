"""The Celery app: Redis is the doorbell, the database is the record (at-least-once delivery).

The worker process is wired in ``triage/worker.py``:
``celery -A triage.worker worker -Q cases --pool=solo`` (or prefork with ``-c N``).
"""

from __future__ import annotations

from celery import Celery

QUEUE = "cases"


def make_celery(broker_url: str, *, visibility_timeout_s: int = 3600) -> Celery:
    """A Celery app configured for at-least-once delivery of case notifications."""
    app = Celery("triage", broker=broker_url)
    app.conf.update(
        task_default_queue=QUEUE,
        task_acks_late=True,  # ack after the task ran, not when it was received
        task_reject_on_worker_lost=True,  # a SIGKILLed worker's task goes back to the queue
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_connection_retry_on_startup=True,
        # Longer than any task; unacked tasks come back after it.
        broker_transport_options={"visibility_timeout": visibility_timeout_s},
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        worker_hijack_root_logger=False,
    )
    return app
