"""The Celery backend with real worker processes on the local Redis and PostgreSQL: a job sent
by the server runs on a worker; a worker killed mid-job is replaced and the job completes."""
from __future__ import annotations

import signal

import pytest

import db
from db import jobs, videos
from db.testing import postgres_available
from portal.jobs.service import JobService

from .conftest import REDIS_URL, add_video, redis_ok, start_worker, stop, wait_for

pytestmark = [pytest.mark.skipif(not redis_ok(), reason=f"Redis not reachable at {REDIS_URL}"),
              pytest.mark.skipif(not postgres_available(), reason="PostgreSQL not reachable")]



@pytest.fixture
def owner(pg_settings):
    with db.connection():
        return db.create_user("celery", "celery@example.org", "h").id


def test_job_runs_on_a_celery_worker(pg_settings, owner, short_video):
    service = JobService(pg_settings)
    assert service.backend.name == "celery"
    video, job = add_video(pg_settings, owner, short_video)
    service.submit(job.id)  # sent before any worker runs: it waits in Redis
    worker = start_worker(pg_settings)
    try:
        done = wait_for(job.id)
    finally:
        stop(worker)
        service.shutdown()
    assert done.status == "done", done.error
    assert done.worker.startswith("celery@")
    with db.connection():
        assert videos.get_video(video.id).frames == 30


def test_worker_killed_mid_job_then_a_new_worker_completes_it(pg_settings, owner, long_video):
    service = JobService(pg_settings)
    video, job = add_video(pg_settings, owner, long_video)
    service.submit(job.id)
    first = start_worker(pg_settings)
    try:
        running = wait_for(job.id, statuses=("running",), min_progress=0.02)
    finally:
        stop(first, signal.SIGKILL)  # the worker and its pool process, mid-job
    with db.connection():
        assert jobs.get_job(job.id).status == "running"
    second = start_worker(pg_settings)
    try:
        done = wait_for(job.id)
    finally:
        stop(second)
        service.shutdown()
    assert done.status == "done" and done.attempts == 2 and done.worker != running.worker
    with db.connection():
        assert videos.get_video(video.id).frames == 300
