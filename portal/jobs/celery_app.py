"""Celery backend: ``celery -A portal.jobs.celery_app worker`` (``make worker``).

The worker reads the same environment as the server (REDIS_URL, DATABASE_URL, DATA_DIR...).
Tasks are acknowledged late and rejected when their worker dies, and a starting worker
re-queues the jobs of dead workers (same host) or silent ones (``JOB_STALE_SECONDS``) and
sends them again: no job is lost when a worker stops. Running a job twice is harmless: only
one worker can claim it (``db.jobs.claim_job``).

Fair share: a task message does not name the job it runs. It runs the fairest job that may
start (``worker.run_next_jobs``: at most ``JOB_RUNNING_PER_USER`` of an account at once, the
accounts in turn), the same rule as the embedded pool, kept in the shared database. Celery's own
``rate_limit`` counts per task type and worker, and routing by account would need a queue per
account that every worker consumes, so neither gives one account's jobs a share across workers.
"""
from __future__ import annotations

import logging

from celery.signals import worker_ready

from portal.jobs.celery_backend import TASK, make_celery
from portal.jobs.settings import JobSettings

log = logging.getLogger(__name__)


def _settings() -> JobSettings:
    from portal.config import load_config

    return JobSettings.from_config(load_config())


settings = _settings()
if not settings.redis_url:
    raise SystemExit("REDIS_URL is not set: the Celery worker needs it (e.g. redis://127.0.0.1:6379/0)")
app = make_celery(settings.redis_url)


@app.task(name=TASK)
def run(job_id: int) -> str:
    """Sent once per job (``job_id`` is only logged): runs the fairest jobs that may start."""
    from portal.jobs.worker import run_next_jobs

    outcomes = run_next_jobs(settings, "celery")
    log.debug("task for job %s ran %d job(s): %s", job_id, len(outcomes), outcomes)
    return ",".join(outcomes) or "nothing to start"


@worker_ready.connect
def _recover(**_kwargs) -> None:
    from portal.jobs.service import recover_jobs
    from portal.jobs.worker import ensure_db

    ensure_db(settings)
    for job_id in recover_jobs(settings):
        app.send_task(TASK, args=[job_id])
