"""Fixtures for the job tests: a database (SQLite / PostgreSQL), a DATA_DIR, a user, videos."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

import db
from db import jobs
from portal.jobs.settings import JobSettings

TERMINAL = ("done", "failed", "cancelled")


@pytest.fixture(scope="session")
def short_video(tmp_path_factory) -> Path:
    from realtime.video_synth import one_face

    return one_face(n_frames=30, first=5, last=24).write(tmp_path_factory.mktemp("v") / "short.mp4")


@pytest.fixture(scope="session")
def long_video(tmp_path_factory) -> Path:
    """Long enough (at a few ms per frame) to cancel or kill a worker in the middle."""
    from realtime.video_synth import one_face

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
