"""Retention (issue 11, RETENTION_DAYS): forget stored images older than N days, keep the
computations' results and the exhibits' observations (aggregates); delete videos and photo
batches older than N days (issue 18), whose files are images of visitors too."""
from __future__ import annotations

import datetime as _dt

from db.base import database, utcnow
from db.computations import Computation
from db.jobs import Job, cancel_job
from db.videos import Batch, BatchItem, Video


def _cutoff(days: float, now: _dt.datetime | None) -> _dt.datetime:
    return (now or utcnow()) - _dt.timedelta(days=float(days))


def expire_images(days: float, now: _dt.datetime | None = None) -> list[str]:
    """Clear the image paths of computations older than ``days`` (before ``now``, default the
    current time); return the paths (for the caller to delete the files)."""
    cutoff = _cutoff(days, now)
    with database.atomic():
        old = list(Computation.select().where((Computation.created_at < cutoff) & (
            (Computation.original_path != "") | (Computation.annotated_path != ""))))
        paths = [p for c in old for p in (c.original_path, c.annotated_path) if p]
        if old:
            Computation.update(original_path="", annotated_path="").where(
                Computation.id.in_([c.id for c in old])).execute()
    return paths


def expired_videos(days: float, now: _dt.datetime | None = None) -> list[Video]:
    """Videos uploaded more than ``days`` before ``now``."""
    return list(Video.select().where(Video.created_at < _cutoff(days, now)).order_by(Video.id))


def expired_batches(days: float, now: _dt.datetime | None = None) -> list[Batch]:
    """Photo batches uploaded more than ``days`` before ``now``."""
    return list(Batch.select().where(Batch.created_at < _cutoff(days, now)).order_by(Batch.id))


def forget_video(video: Video) -> str:
    """Cancel the video's job and delete it with its row (its observations go with it: they
    reference the video); returns its folder for the caller to remove."""
    with database.atomic():
        if video.job_id is not None:
            cancel_job(video.job_id)
        Video.delete().where(Video.id == video.id).execute()
        if video.job_id is not None:
            Job.delete().where(Job.id == video.job_id).execute()
    return video.folder


def forget_batch(batch: Batch) -> str:
    """Cancel the batch's job and delete it with its row; its photos' computations stay (their
    results and observations, as for any photo), without images (they lived in the batch's
    folder); returns the folder for the caller to remove."""
    with database.atomic():
        if batch.job_id is not None:
            cancel_job(batch.job_id)
        photos = BatchItem.select(BatchItem.computation).where(BatchItem.batch == batch.id)
        Computation.update(original_path="", annotated_path="").where(Computation.id.in_(photos)).execute()
        Batch.delete().where(Batch.id == batch.id).execute()  # its items cascade
        if batch.job_id is not None:
            Job.delete().where(Job.id == batch.job_id).execute()
    return batch.folder
