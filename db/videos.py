"""Videos and photo batches: what the user uploaded, the job that analyses it, where the
results are. Paths are stored relative to DATA_DIR; deleting a record hands its folder back
for the caller to remove (every file of a video or batch lives in that one folder)."""
from __future__ import annotations

import logging
from typing import Any

import peewee as pw

from db.base import BaseModel, Page, database, utcnow, valid_id
from db.computations import Computation
from db.jobs import Job, create_job
from db.museum import Exhibit
from db.users import User

log = logging.getLogger(__name__)


class Video(BaseModel):
    owner = pw.ForeignKeyField(User, backref="videos", on_delete="CASCADE", index=True)
    job = pw.ForeignKeyField(Job, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow, index=True)
    title = pw.CharField(max_length=200, default="")
    # the exhibit it is attached to (issue 11); a foreign key since migration 11, unlinked when the
    # exhibit goes (its observations go with the exhibit).  Read and set as ``exhibit_id``.
    exhibit_link = pw.ForeignKeyField(Exhibit, null=True, on_delete="SET NULL", column_name="exhibit_id",
                                      object_id_name="exhibit_id")
    exhibit = pw.CharField(max_length=200, default="")
    notes = pw.TextField(default="")
    consent = pw.BooleanField(default=False)
    filename = pw.CharField(max_length=255, default="")  # as uploaded (shown, never used as a path)
    folder = pw.CharField(max_length=500)  # DATA_DIR-relative folder with every file of this video
    original_path = pw.CharField(max_length=500, default="")
    annotated_path = pw.CharField(max_length=500, default="")
    result_path = pw.CharField(max_length=500, default="")  # result.json
    csv_path = pw.CharField(max_length=500, default="")
    duration_s = pw.FloatField(null=True)
    fps = pw.FloatField(null=True)
    width = pw.IntegerField(null=True)
    height = pw.IntegerField(null=True)
    frames = pw.IntegerField(null=True)
    frames_analysed = pw.IntegerField(null=True)
    tracks = pw.IntegerField(null=True)
    dominant_emotion = pw.CharField(max_length=32, null=True)
    sample_fps = pw.FloatField(null=True)
    preset = pw.CharField(max_length=32, default="default")

    class Meta:
        table_name = "videos"


class Batch(BaseModel):
    owner = pw.ForeignKeyField(User, backref="batches", on_delete="CASCADE", index=True)
    job = pw.ForeignKeyField(Job, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow, index=True)
    title = pw.CharField(max_length=200, default="")
    exhibit_link = pw.ForeignKeyField(Exhibit, null=True, on_delete="SET NULL", column_name="exhibit_id",
                                      object_id_name="exhibit_id")  # as Video's (migration 11)
    exhibit = pw.CharField(max_length=200, default="")
    notes = pw.TextField(default="")
    consent = pw.BooleanField(default=False)
    folder = pw.CharField(max_length=500)
    photos = pw.IntegerField(default=0)
    summary_csv_path = pw.CharField(max_length=500, default="")

    class Meta:
        table_name = "batches"


class BatchItem(BaseModel):
    """One photo of a batch = one computation in the history."""
    batch = pw.ForeignKeyField(Batch, backref="items", on_delete="CASCADE", index=True)
    computation = pw.ForeignKeyField(Computation, on_delete="CASCADE")
    name = pw.CharField(max_length=255, default="")

    class Meta:
        table_name = "batch_items"


VIDEO_RESULT_FIELDS = ("annotated_path", "result_path", "csv_path", "duration_s", "fps", "width", "height",
                       "frames", "frames_analysed", "tracks", "dominant_emotion")


def create_video_job(owner_id: int, *, folder: str, original_path: str, filename: str, title: str = "",
                     exhibit: str = "", exhibit_id: int | None = None, notes: str = "", consent: bool = False,
                     sample_fps: float | None = None, preset: str = "default",
                     max_active: int | None = None) -> tuple[Video, Job]:
    """The video record and its queued job, in one transaction (``max_active``: see create_job)."""
    with database.atomic():
        video = Video.create(owner=owner_id, created_at=utcnow(), title=title, exhibit=exhibit,
                             exhibit_id=exhibit_id, notes=notes, consent=bool(consent), filename=filename[:255],
                             folder=folder, original_path=original_path, sample_fps=sample_fps, preset=preset)
        job = create_job(owner_id, "video", {"video_id": video.id}, max_active)
        video.job = job
        video.save()
    return video, job


def get_video(video_id, owner_id: int | None = None) -> Video | None:
    video_id = valid_id(video_id)  # None for what cannot be an id (e.g. above 2^63: 404, not an overflow)
    if video_id is None:
        return None
    cond = Video.id == video_id
    if owner_id is not None:
        cond &= Video.owner == owner_id
    return Video.get_or_none(cond)


def set_video_result(video_id: int, **fields: Any) -> None:
    unknown = set(fields) - set(VIDEO_RESULT_FIELDS)
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)}")
    Video.update(**fields).where(Video.id == video_id).execute()


def list_videos(owner_id: int, limit: int = 100) -> list[Video]:
    return list(Video.select().where(Video.owner == owner_id)
                .order_by(Video.created_at.desc(), Video.id.desc()).limit(limit))


def page_videos(owner_id: int, page: int = 1, per_page: int = 20) -> Page:
    """The owner's videos, newest first, one page (as ``db.list_computations``)."""
    return _page(Video, owner_id, page, per_page)


def page_batches(owner_id: int, page: int = 1, per_page: int = 20) -> Page:
    """The owner's photo batches, newest first, one page."""
    return _page(Batch, owner_id, page, per_page)


def _page(model, owner_id: int, page: int, per_page: int) -> Page:
    query = model.select().where(model.owner == owner_id)
    total, page = query.count(), max(1, int(page))
    items = [] if (page - 1) * per_page >= max(total, 1) else list(
        query.order_by(model.created_at.desc(), model.id.desc()).paginate(page, per_page))
    return Page(items=items, total=total, page=page, per_page=per_page)


def delete_video(owner_id: int, video_id) -> str | None:
    """Delete the owner's video and its job; returns its folder (the caller removes it) or None."""
    with database.atomic():
        video = get_video(video_id, owner_id)
        if video is None:
            return None
        folder, job_id = video.folder, video.job_id
        video.delete_instance()
        if job_id is not None:
            Job.delete().where(Job.id == job_id).execute()
    return folder


def create_batch_job(owner_id: int, *, folder: str, photos: int, title: str = "", exhibit: str = "",
                     exhibit_id: int | None = None, notes: str = "", consent: bool = False,
                     max_active: int | None = None) -> tuple[Batch, Job]:
    with database.atomic():
        batch = Batch.create(owner=owner_id, created_at=utcnow(), title=title, exhibit=exhibit,
                             exhibit_id=exhibit_id, notes=notes, consent=bool(consent), folder=folder,
                             photos=photos)
        job = create_job(owner_id, "batch", {"batch_id": batch.id}, max_active)
        batch.job = job
        batch.save()
    return batch, job


def list_batches(owner_id: int, limit: int = 50) -> list[Batch]:
    return list(Batch.select().where(Batch.owner == owner_id).order_by(Batch.created_at.desc(), Batch.id.desc())
                .limit(limit))


def get_batch(batch_id, owner_id: int | None = None) -> Batch | None:
    batch_id = valid_id(batch_id)  # None for what cannot be an id (e.g. above 2^63: 404, not an overflow)
    if batch_id is None:
        return None
    cond = Batch.id == batch_id
    if owner_id is not None:
        cond &= Batch.owner == owner_id
    return Batch.get_or_none(cond)


def add_batch_item(batch_id: int, computation_id: int, name: str) -> BatchItem:
    return BatchItem.create(batch=batch_id, computation=computation_id, name=name[:255])


def batch_items(batch_id: int) -> list[BatchItem]:
    return list(BatchItem.select().where(BatchItem.batch == batch_id).order_by(BatchItem.id))


def clear_batch_items(batch_id: int) -> list[str]:
    """Remove a batch's computations (a retry starts over); returns their image paths."""
    with database.atomic():
        comps = list(Computation.select().join(BatchItem).where(BatchItem.batch == batch_id))
        paths = [p for c in comps for p in (c.original_path, c.annotated_path) if p]
        Computation.delete().where(Computation.id.in_([c.id for c in comps])).execute()
    return paths


def set_batch_summary(batch_id: int, summary_csv_path: str) -> None:
    Batch.update(summary_csv_path=summary_csv_path).where(Batch.id == batch_id).execute()


def delete_batch(owner_id: int, batch_id) -> tuple[str, list[str]] | None:
    """Delete the batch, its computations and its job; returns (folder, computation image paths)."""
    batch = get_batch(batch_id, owner_id)
    if batch is None:
        return None
    paths = clear_batch_items(batch.id)
    with database.atomic():
        folder, job_id = batch.folder, batch.job_id
        batch.delete_instance()
        if job_id is not None:
            Job.delete().where(Job.id == job_id).execute()
    return folder, paths
