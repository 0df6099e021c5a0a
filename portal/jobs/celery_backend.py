"""Sending jobs to Celery on Redis (the server side; the worker is portal/jobs/celery_app.py)."""
from __future__ import annotations

from celery import Celery

from portal.jobs.settings import JobSettings

TASK = "portal.jobs.run"


def make_celery(redis_url: str) -> Celery:
    app = Celery("portal.jobs", broker=redis_url, backend=None)
    app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
                    task_ignore_result=True, broker_connection_retry_on_startup=True,
                    worker_hijack_root_logger=False)
    return app


class CeleryBackend:
    """What the server uses to send jobs to the Celery workers (``make worker``)."""

    name = "celery"

    def __init__(self, settings: JobSettings):
        self._app = make_celery(settings.redis_url)

    def send(self, job_id: int) -> None:
        self._app.send_task(TASK, args=[job_id])

    def shutdown(self, wait: bool = True) -> None:
        self._app.close()
