"""Issue 18 (finding 6, and a Low item) through the real job path: a failed batch's uploaded
photos are removed; an account's unfinished batches hold at most BATCH_USER_MAX_MB of photos;
a video job cancelled and at once retried keeps the new run's files (the old worker used to
delete them when it noticed the cancel)."""
from __future__ import annotations

import io
import threading
from dataclasses import replace

import cv2
import numpy as np
import pytest

import db
from db import jobs, videos
from portal.jobs.service import JobService
from portal.jobs.uploads import UploadError, store_batch
from portal.jobs.worker import run_job

from .conftest import add_video, wait_for

VIDEO_FILES = ["annotated.mp4", "result.json", "timeline.csv"]


def photo(seed: int = 0, size: int = 64) -> io.BytesIO:
    rng = np.random.default_rng(seed)
    return io.BytesIO(cv2.imencode(".jpg", rng.integers(0, 255, (size, size, 3), dtype=np.uint8))[1].tobytes())


@pytest.fixture
def database_url(tmp_path):
    """SQLite (the default deployment) only: the cleanup does not depend on the database."""
    return str(tmp_path / "data" / "app.sqlite3")


@pytest.fixture
def sqlite_settings(settings):
    return settings


@pytest.fixture
def user(owner) -> int:
    return owner


def test_a_failed_batch_loses_its_uploaded_photos(sqlite_settings, user):
    settings = sqlite_settings
    batch, job = store_batch(settings, user, [("a.jpg", photo()), ("b.jpg", photo(1))])
    folder = settings.data_dir / batch.folder
    (folder / "manifest.json").write_text("{ not json")  # the job crashes on it
    assert run_job(job.id, settings) == "failed"
    with db.connection():
        assert "internal error" in jobs.get_job(job.id).error
    assert not (folder / "uploads").exists() and folder.is_dir()
    service = JobService(settings, backend=_NoBackend())
    with db.connection(), pytest.raises(UploadError, match="upload them again") as refused:
        service.retry(user, job.id)
    assert refused.value.reason == "gone"


def test_unfinished_batches_of_an_account_hold_at_most_its_share(sqlite_settings, user):
    size = len(photo().getvalue())
    settings = replace(sqlite_settings, batch_user_max_bytes=int(size * 3.5))
    store_batch(settings, user, [(f"{i}.jpg", photo(i)) for i in range(2)])  # queued: 2 photos wait
    with pytest.raises(UploadError, match=r"limit of 0 MB per account \(BATCH_USER_MAX_MB\)") as refused:
        store_batch(settings, user, [(f"{i}.jpg", photo(i)) for i in range(2, 4)])  # 4 > 3.5
    assert refused.value.reason == "busy"
    store_batch(settings, user, [("4.jpg", photo(4))])  # 3 fit
    with pytest.raises(UploadError, match="BATCH_USER_MAX_MB"):
        store_batch(settings, user, [("5.jpg", photo(5))])
    with db.connection():
        other = db.create_user("other", "other@example.org", "h").id
    store_batch(settings, other, [(f"{i}.jpg", photo(i)) for i in range(3)])  # another account's share
    with db.connection():
        assert len(videos.list_batches(user)) == 2


class _NoBackend:
    name = "none"

    def send(self, job_id: int) -> None:
        pass

    def shutdown(self, wait: bool = True) -> None:
        pass


def test_cancel_then_retry_at_once_keeps_the_new_runs_files(sqlite_settings, user, long_video, model_path):
    """The first run goes on in a pool worker for up to half a second after the cancel; the retry
    runs here at once (model already loaded), writing while that worker notices and cleans up."""
    from realtime.classifier import load_classifier
    from realtime.config import PipelineConfig
    from realtime.pipeline import get_analyzer
    from realtime.video import PRESETS

    settings = replace(sqlite_settings, model_path=model_path)
    get_analyzer(PipelineConfig(detector=PRESETS["close"], model_path=model_path))  # the retry starts at once
    load_classifier(model_path, threads=1)
    video, job = add_video(settings, user, long_video)
    service = JobService(settings)
    try:
        service.submit(job.id)
        wait_for(job.id, statuses=("running",), min_progress=0.05)
        with db.connection():
            assert service.cancel(user, job.id)
            assert jobs.retry_job(job.id)  # what service.retry does, without sending it to the pool
        second = threading.Thread(target=run_job, args=(job.id, settings))
        second.start()
        second.join(300)
    finally:
        service.shutdown(wait=True)  # the first run has long noticed the cancel
    done = wait_for(job.id)
    assert done.status == "done" and done.attempts == 2 and done.worker.startswith("embedded@")
    folder = settings.data_dir / video.folder
    assert sorted(p.name for p in folder.iterdir()) == VIDEO_FILES  # no .run-* left, nothing deleted
    with db.connection():
        assert videos.get_video(video.id).frames == 300
