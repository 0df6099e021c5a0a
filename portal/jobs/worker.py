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

from .reporting import JobInputError, JobStopped, Reporter  # noqa: F401  (re-exported)
from .settings import JobSettings

log = logging.getLogger(__name__)

_ready_for: str | None = None  # the database URL this process was initialised for


def _user_errors() -> tuple[type[Exception], ...]:
    from realtime.io import ImageError
    from realtime.video_io import VideoError

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
        from .video_task import run_video_job

        return run_video_job
    from .batch_task import run_batch_job

    return run_batch_job


def run_job(job_id: int, settings: JobSettings, worker_kind: str = "embedded") -> str:
    """Claim and run job ``job_id``; returns its final status (or 'skipped' if not claimable)."""
    from realtime.video import VideoCancelled

    ensure_db(settings)
    worker = worker_name(worker_kind)
    with db.connection():
        job = jobs.claim_job(job_id, worker, settings.stale_s)
    if job is None:
        log.info("job %s: not claimable (done, cancelled or running elsewhere)", job_id)
        return "skipped"
    log.info("job %d (%s) started by %s, attempt %d", job.id, job.kind, worker, job.attempts)
    reporter = Reporter(job.id, worker)
    try:
        result = _handler(job.kind)(job, settings, reporter)
    except (JobStopped, VideoCancelled):
        log.info("job %d stopped: cancelled", job.id)
        return "cancelled"
    except _user_errors() as exc:  # bad input: the message names the problem, for the user
        with db.connection():
            jobs.fail_job(job.id, worker, str(exc))
        log.info("job %d failed: %s", job.id, exc)
        return "failed"
    except Exception as exc:
        log.exception("job %d crashed", job.id)
        with db.connection():
            jobs.fail_job(job.id, worker, f"internal error ({type(exc).__name__}); the server log has details")
        return "failed"
    with db.connection():
        ok = jobs.finish_job(job.id, worker, result)
    log.info("job %d %s", job.id, "done" if ok else "finished after it was cancelled")
    return "done" if ok else "cancelled"
