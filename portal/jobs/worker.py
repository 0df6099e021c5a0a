"""Runs one job in a worker process (embedded pool or Celery): claim it, run it, record the
outcome. Progress and cancellation go through the database (``db.jobs``)."""
from __future__ import annotations

import logging
import os
import socket
import time
from typing import Callable

import db
from db import jobs
from portal.jobs.reporting import JobInputError, JobStopped, Reporter  # noqa: F401  (re-exported)
from portal.jobs.settings import JobSettings

log = logging.getLogger(__name__)

_ready_for: str | None = None  # the database URL this process was initialised for


def _user_errors() -> tuple[type[Exception], ...]:
    from realtime import ImageError, VideoError

    return (VideoError, ImageError, JobInputError)


def worker_name(kind: str) -> str:
    return f"{kind}@{socket.gethostname()}:{os.getpid()}"


def dead_local_workers(names: list[str]) -> list[str]:
    """Those of ``names`` that ran on this host in a process that no longer exists."""
    host = socket.gethostname()
    dead = []
    for name in names:
        where = name.split("@", 1)[-1]
        wh, _, pid = where.rpartition(":")
        if wh != host or not pid.isdigit():
            continue
        if not _alive(int(pid)):
            dead.append(name)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process nobody has reaped yet is a zombie: dead
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def ensure_db(settings: JobSettings) -> None:
    global _ready_for
    if _ready_for != settings.database_url:
        db.init(settings.database_url)
        _ready_for = settings.database_url


def _handler(kind: str) -> Callable:
    if kind == "video":
        from portal.jobs.video_task import run_video_job

        return run_video_job
    from portal.jobs.batch_task import run_batch_job

    return run_batch_job


def run_job(job_id: int, settings: JobSettings, worker_kind: str = "embedded") -> str:
    """Claim and run job ``job_id`` whatever the queue order (tools, tests); returns its final
    status (or 'skipped' if not claimable). The backends use :func:`run_next_jobs`."""
    ensure_db(settings)
    worker = worker_name(worker_kind)
    with db.connection():
        job = jobs.claim_job(job_id, worker, settings.stale_s)
    if job is None:
        log.info("job %s: not claimable (done, cancelled or running elsewhere)", job_id)
        return "skipped"
    return run_claimed(job, settings, worker)


def run_next_jobs(settings: JobSettings, worker_kind: str = "embedded") -> list[str]:
    """Run the fairest job that may start (``db.jobs.claim_next``: at most JOB_RUNNING_PER_USER
    of an account at once, the accounts in turn), then the next, until none may start; returns
    their final statuses. The backends run one of these per job sent: a job held back by its
    owner's share is started by the worker that finishes that owner's running job."""
    ensure_db(settings)
    worker = worker_name(worker_kind)
    outcomes: list[str] = []
    while True:
        with db.connection():
            job = jobs.claim_next(worker, settings.running_per_user, settings.stale_s)
        if job is None:
            return outcomes
        outcomes.append(run_claimed(job, settings, worker))


def run_claimed(job: jobs.Job, settings: JobSettings, worker: str) -> str:
    """Run a job ``worker`` has claimed and record the outcome; returns its final status."""
    from realtime import VideoCancelled

    log.info("job %d (%s) started by %s, attempt %d", job.id, job.kind, worker, job.attempts)
    reporter = Reporter(job.id, worker)
    try:
        result = _handler(job.kind)(job, settings, reporter)
    except (JobStopped, VideoCancelled):
        log.info("job %d stopped: cancelled", job.id)
        _discard_if(job, settings, "cancelled")
        return "cancelled"
    except _user_errors() as exc:  # bad input: the message names the problem, for the user
        _failed(job, settings, worker, str(exc))
        log.info("job %d failed: %s", job.id, exc)
        return "failed"
    except Exception as exc:
        log.exception("job %d crashed", job.id)
        _failed(job, settings, worker, f"internal error ({type(exc).__name__}); the server log has details")
        return "failed"
    with db.connection():
        ok = jobs.finish_job(job.id, worker, result)
    log.info("job %d %s", job.id, "done" if ok else "finished after it was cancelled")
    return "done" if ok else "cancelled"


def _failed(job: jobs.Job, settings: JobSettings, worker: str, error: str) -> None:
    with db.connection():
        jobs.fail_job(job.id, worker, error)
    _discard_if(job, settings, "failed")


def _discard_if(job: jobs.Job, settings: JobSettings, status: str) -> None:
    """A cancelled or failed batch's uploaded photos are removed (not when another worker took the
    job over: it is using them)."""
    if job.kind != "batch":
        return
    from portal.jobs.batch_task import discard_uploads

    with db.connection():
        now = jobs.get_job(job.id)
    if now is not None and now.status == status:
        discard_uploads(job, settings.data_dir)
