"""Issue 18.10: RETENTION_DAYS covers videos and photo batches (SQLite and PostgreSQL). A video
and a batch analysed through the real job path are kept until they are older than the retention
period (a controlled clock: ``apply_retention(now=...)``), then their folders and rows go; the
batch's photos keep their results in the history, without images."""
from __future__ import annotations

import datetime as dt
import io

import cv2

import db
from db import jobs, videos
from portal.jobs.service import JobService
from portal.jobs.uploads import store_batch
from portal.accounts.retention import apply_retention

from .conftest import add_video, wait_for


def _photo() -> io.BytesIO:
    from realtime.research.scenes import real_photo

    return io.BytesIO(cv2.imencode(".png", cv2.cvtColor(real_photo("astronaut"), cv2.COLOR_RGB2BGR))[1].tobytes())


def test_retention_deletes_videos_and_batches_older_than_the_period(settings, owner, short_video):
    video, video_job = add_video(settings, owner, short_video)
    batch, batch_job = store_batch(settings, owner, [("a.png", _photo())], title="hall")
    service = JobService(settings)
    try:
        for job in (video_job, batch_job):
            service.submit(job.id)
        assert [wait_for(j.id).status for j in (video_job, batch_job)] == ["done", "done"]
    finally:
        service.shutdown(wait=True)
    video_dir, batch_dir = settings.data_dir / video.folder, settings.data_dir / batch.folder
    assert (video_dir / "annotated.mp4").is_file() and any(batch_dir.glob("photo_*.jpg"))
    uploaded = max(video.created_at, batch.created_at)

    assert apply_retention(settings.data_dir, days=30, now=uploaded + dt.timedelta(days=29)) == 0
    with db.connection():
        assert videos.get_video(video.id) is not None and videos.get_batch(batch.id) is not None
    assert (video_dir / "annotated.mp4").is_file()

    removed = apply_retention(settings.data_dir, days=30, now=uploaded + dt.timedelta(days=31))
    assert removed >= 3 + 3  # the video's files; the batch's photo, its annotated copy, the summary...
    assert not video_dir.exists() and not batch_dir.exists()
    with db.connection():
        assert videos.get_video(video.id) is None and videos.get_batch(batch.id) is None
        assert jobs.get_job(video_job.id) is None and jobs.get_job(batch_job.id) is None
        kept = db.list_computations(owner).items  # the photo's result stays in the history
        assert [(c.title, c.original_path, c.annotated_path, c.faces_found) for c in kept] == [
            ("hall / a.png", "", "", 1)]
    assert apply_retention(settings.data_dir, days=30, now=uploaded + dt.timedelta(days=40)) == 0
