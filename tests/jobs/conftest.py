"""Fixtures for the job tests: a database (SQLite / PostgreSQL), a DATA_DIR, a user, videos."""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import db
from db import jobs
from db.testing import temporary_postgres_schema
from portal.jobs.settings import JobSettings

TERMINAL = ("done", "failed", "cancelled")
REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")  # a database of our own


def redis_ok(url: str = REDIS_URL) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def scale_out(tmp_path: Path, redis_url: str = REDIS_URL, prefix: str = "celery"):
    """PostgreSQL (a throw-away schema), a Redis database emptied, a DATA_DIR: the scale-out setup."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # no stale tasks from an earlier run
    with temporary_postgres_schema(prefix=prefix) as url:
        db.init(url)
        yield JobSettings(data_dir=tmp_path / "data", database_url=url, redis_url=redis_url, stale_s=60)


@pytest.fixture
def pg_settings(tmp_path):
    with scale_out(tmp_path) as settings:
        yield settings


def service_env(settings: JobSettings) -> dict[str, str]:
    return {**os.environ, "REDIS_URL": settings.redis_url, "DATABASE_URL": settings.database_url,
            "DATA_DIR": str(settings.data_dir), "JOB_STALE_SECONDS": str(settings.stale_s)}


def start_worker(settings: JobSettings) -> subprocess.Popen:
    """A real ``celery worker`` process (one pool process)."""
    name = f"test-{secrets.token_hex(3)}@%h"
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal.jobs.celery_app", "worker", "-c", "1",
                             "-n", name, "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
                            cwd=REPO, env=service_env(settings), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    """Stop a process started with start_new_session (and its children)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="session")
def short_video(tmp_path_factory) -> Path:
    from realtime.research.video_synth import one_face

    return one_face(n_frames=30, first=5, last=24).write(tmp_path_factory.mktemp("v") / "short.mp4")


@pytest.fixture(scope="session")
def long_video(tmp_path_factory) -> Path:
    """Long enough (at a few ms per frame) to cancel or kill a worker in the middle."""
    from realtime.research.video_synth import one_face

    return one_face(n_frames=300, first=0, last=299).write(tmp_path_factory.mktemp("v") / "long.mp4")


@pytest.fixture
def settings(database_url, tmp_path) -> JobSettings:
    db.init(database_url)
    return JobSettings(data_dir=tmp_path / "data", database_url=database_url, workers=1, stale_s=60)


@pytest.fixture
def owner(settings) -> int:
    with db.connection():
        return db.create_user("jobber", "jobber@example.org", "h").id


def wait_for(job_id: int, statuses=TERMINAL, timeout: float = 180.0, min_progress: float | None = None):
    """Poll the database until the job reaches one of ``statuses`` (or ``min_progress``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.connection():
            job = jobs.get_job(job_id)
        if job.status in statuses and (min_progress is None or job.progress >= min_progress):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job.status} (progress {job.progress}) after {timeout} s")


def add_video(settings: JobSettings, owner: int, path: Path, name: str = "clip.mp4", **kw):
    from portal.jobs.uploads import store_video

    with open(path, "rb") as fh:
        return store_video(settings, owner, fh, name, title="t", preset="close", **kw)
