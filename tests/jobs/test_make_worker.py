"""Issue 18, finding 3: the scale-out worker started exactly as the README and the Makefile give it
(``make worker`` with REDIS_URL, DATABASE_URL and DATA_DIR in the environment) runs a job to the
end.  With the ``celery`` console script every job failed with ``No module named 'db'``."""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

import db
from db import jobs, videos
from db.testing import postgres_available
from portal.jobs.service import JobService
from portal.jobs.settings import JobSettings

from .conftest import REPO, TERMINAL, add_video, redis_ok, scale_out, stop

REDIS_URL = os.environ.get("TEST_MAKE_WORKER_REDIS_URL", "redis://127.0.0.1:6379/12")  # a database of our own


def _venv_ready() -> bool:
    """``make worker`` would not (re)install the virtual environment first."""
    return subprocess.run(["make", "-q", ".venv/.installed"], cwd=REPO, capture_output=True).returncode == 0


pytestmark = [pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed"),
              pytest.mark.skipif(not redis_ok(REDIS_URL), reason=f"Redis not reachable at {REDIS_URL}"),
              pytest.mark.skipif(not postgres_available(), reason="PostgreSQL not reachable"),
              pytest.mark.skipif(not _venv_ready(), reason="make would reinstall .venv first (make install)"),
              pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def settings(tmp_path):
    with scale_out(tmp_path, REDIS_URL, prefix="makeworker") as settings:
        yield settings


def make_worker(settings: JobSettings, log_path) -> subprocess.Popen:
    """``make worker`` in the project folder, as the README says, with the server's environment."""
    env = {**os.environ, "REDIS_URL": settings.redis_url, "DATABASE_URL": settings.database_url,
           "DATA_DIR": str(settings.data_dir)}
    with open(log_path, "wb") as log:
        return subprocess.Popen(["make", "worker"], cwd=REPO, env=env, start_new_session=True,
                                stdout=log, stderr=subprocess.STDOUT)


def wait_for_job(job_id: int, log_path, timeout: float = 180.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.connection():
            job = jobs.get_job(job_id)
        if job.status in TERMINAL:
            return job
        output = log_path.read_text(errors="replace")
        assert "ModuleNotFoundError" not in output, output[-3000:]  # the bug: fail at once
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still {job.status} after {timeout} s:\n"
                         f"{log_path.read_text(errors='replace')[-3000:]}")


def test_make_worker_as_documented_runs_a_job(settings, short_video, tmp_path):
    with db.connection():
        owner = db.create_user("worker", "worker@example.org", "h").id
    video, job = add_video(settings, owner, short_video)
    service = JobService(settings)
    assert service.backend.name == "celery"
    service.submit(job.id)  # waits in Redis for a worker
    log_path = tmp_path / "make-worker.log"
    worker = make_worker(settings, log_path)
    try:
        done = wait_for_job(job.id, log_path)
    finally:
        stop(worker)  # make, the celery worker and its pool processes (one process group)
        service.shutdown()
    assert done.status == "done", done.error
    assert done.worker.startswith("celery@")
    with db.connection():
        assert videos.get_video(video.id).frames == 30
    assert "-m celery -A portal.jobs.celery_app worker" in log_path.read_text()  # what make ran
