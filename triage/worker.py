"""The Celery worker's wiring: ``celery -A triage.worker worker -Q cases``.

``-Q archive`` scores archive chunks for ``triage score --celery``; ``-Q cases,archive`` does
both. Settings come from the environment (``TRIAGE_BROKER_URL``, ``TRIAGE_DATABASE_URL``, ...) as
for every other process; the review queue opens its store on the first task, and the models
are loaded on the first archive chunk.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from review_queue.celery_app import make_celery
from review_queue.queue import ReviewQueue
from review_queue.tasks import register_tasks
from triage.archive_celery import register_archive_task
from triage.settings import Settings

if TYPE_CHECKING:
    from triage.facade import Triage

settings = Settings()
app = make_celery(settings.broker_url, visibility_timeout_s=settings.visibility_timeout_s)


@lru_cache(maxsize=1)
def _queue() -> ReviewQueue:
    return ReviewQueue(settings.case_store())


@lru_cache(maxsize=4)
def _triage(policy: str | None) -> Triage:
    from triage.facade import Triage  # the models load with the first chunk, not with the worker

    if policy is None:
        return Triage(settings)
    return Triage(settings.model_copy(update={"policy_path": Path(policy)}))


register_tasks(app, _queue)
register_archive_task(app, _triage)
