"""The Celery backend with real worker processes on the local Redis and PostgreSQL: a job sent
by the server runs on a worker; a worker killed mid-job is replaced and the job completes."""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

import db
from db import jobs, videos
from db.testing import postgres_available, temporary_postgres_schema
from portal.jobs.service import JobService
from portal.jobs.settings import JobSettings

from .conftest import add_video, wait_for

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


def _redis_ok() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return True
    except Exception:
        return False


pytestmark = [pytest.mark.skipif(not _redis_ok(), reason=f"Redis not reachable at {REDIS_URL}"),
              pytest.mark.skipif(not postgres_available(), reason="PostgreSQL not reachable")]


@pytest.fixture
def pg_settings(tmp_path):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # our own Redis database: no stale tasks
    with temporary_postgres_schema(prefix="celery") as url:
        db.init(url)
        yield JobSettings(data_dir=tmp_path / "data", database_url=url, redis_url=REDIS_URL, stale_s=60)


def start_worker(settings: JobSettings) -> subprocess.Popen:
    env = {**os.environ, "REDIS_URL": settings.redis_url, "DATABASE_URL": settings.database_url,
           "DATA_DIR": str(settings.data_dir), "JOB_STALE_SECONDS": str(settings.stale_s)}
    name = f"test-{secrets.token_hex(3)}@%h"
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal.jobs.celery_app", "worker", "-c", "1",
                             "-n", name, "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
                            cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


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
