"""The Celery worker's wiring: ``celery -A triage.worker worker -Q cases``.

Settings come from the environment (``TRIAGE_BROKER_URL``, ``TRIAGE_DATABASE_URL``, ...) as
for every other process; the review queue opens its store on the first task.
"""

from __future__ import annotations

from functools import lru_cache

from review_queue.celery_app import make_celery
from review_queue.queue import ReviewQueue
from review_queue.tasks import register_tasks
from triage.settings import Settings

settings = Settings()
app = make_celery(settings.broker_url, visibility_timeout_s=settings.visibility_timeout_s)


@lru_cache(maxsize=1)
def _queue() -> ReviewQueue:
    return ReviewQueue(settings.case_store())


register_tasks(app, _queue)
