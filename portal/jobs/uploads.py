"""Storing an upload for a job: a video, or a batch of photos (files or a zip).

Every file of a video or batch lives in one folder, ``DATA_DIR/videos/<user>/<token>/`` or
``DATA_DIR/batches/<user>/<token>/``; the database stores it relative to DATA_DIR and deleting
the record removes the folder. Bad input is refused here, before any record exists, with a
message naming the problem (the folder is removed again).
"""
from __future__ import annotations

import json
import logging
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

import db
from db import jobs, videos
from portal.jobs.batch_task import MANIFEST, UPLOADS
from portal.jobs.settings import JobSettings
from portal.jobs.upload_checks import (MAX_PHOTO_BYTES, PHOTO_SUFFIXES, OverLimit, UploadError,  # noqa: F401
                                       batch_budget, copy_limited, photos_from)
from realtime import (ACCEPTED_SUFFIXES, PRESET_CHOICES, CorruptVideoError, UnsupportedVideoError, VideoError,
                      VideoTooLargeError, probe)

log = logging.getLogger(__name__)


def _reason(exc: VideoError) -> str:
    if isinstance(exc, VideoTooLargeError):
        return "size"
    return "format" if isinstance(exc, (UnsupportedVideoError, CorruptVideoError)) else "invalid"


def _new_folder(settings: JobSettings, kind: str, owner_id: int) -> tuple[Path, str]:
    stem = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(6)
    rel = Path(kind) / str(int(owner_id)) / stem
    path = Path(settings.data_dir) / rel
    path.mkdir(parents=True)
    return path, str(rel)


def remove_folder(settings: JobSettings, rel: str | None) -> int:
    """Remove a video/batch folder (only inside DATA_DIR/videos or DATA_DIR/batches)."""
    return remove_job_folder(settings.data_dir, rel)


def remove_job_folder(data_dir: Path, rel: str | None) -> int:
    """Remove a video/batch folder (only inside DATA_DIR/videos or DATA_DIR/batches); returns how
    many files it held."""
    if not rel:
        return 0
    base = Path(data_dir).resolve()
    path = (base / rel).resolve()
    if path.parent.parent.parent != base or path.parent.parent.name not in ("videos", "batches"):
        log.warning("refusing to remove a folder outside the job folders")
        return 0
    files = sum(1 for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0
    shutil.rmtree(path, ignore_errors=True)
    return files


def check_queue(settings: JobSettings, owner_id: int) -> None:
    """Refuse a new job while the owner has ``JOB_QUEUE_PER_USER`` jobs queued or running."""
    with db.connection():
        active = jobs.active_jobs(owner_id)
    if active >= settings.queue_per_user:
        raise UploadError(queue_message(active, settings.queue_per_user), "busy")


def queue_message(active: int, limit: int) -> str:
    return (f"you have {active} jobs queued or running, the limit per account (JOB_QUEUE_PER_USER) is {limit}: "
            "wait for some to finish, or cancel some")


def _create(settings: JobSettings, create, owner_id: int, **fields):
    """``create`` (videos.create_video_job / create_batch_job) within the owner's queue limit."""
    try:
        with db.connection():
            return create(owner_id, max_active=settings.queue_per_user, **fields)
    except jobs.TooManyJobs as exc:
        raise UploadError(queue_message(exc.active, exc.limit), "busy") from None


def store_video(settings: JobSettings, owner_id: int, stream: BinaryIO, filename: str, *, title: str = "",
                exhibit: str = "", exhibit_id: int | None = None, notes: str = "", consent: bool = False,
                sample_fps: float | None = None, preset: str = "auto") -> tuple[videos.Video, "db.jobs.Job"]:
    """Save, check (container, stream, limits) and record the video with its queued job."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        raise UploadError(f"'{filename}' is not a video we accept; send one of: {', '.join(ACCEPTED_SUFFIXES)}",
                          "format")
    if preset not in PRESET_CHOICES:
        raise UploadError(f"unknown preset '{preset}'; choose one of: {', '.join(PRESET_CHOICES)}")
    if sample_fps is not None and not 0 < sample_fps <= 240:
        raise UploadError("frames analysed per second must be between 0 and 240 (empty: every frame)")
    check_queue(settings, owner_id)
    folder, rel = _new_folder(settings, "videos", owner_id)
    try:
        original = folder / f"original{suffix}"
        _copy_video(stream, original, settings.video_limits.max_bytes, filename)
        probe(original, settings.video_limits)
        return _create(settings, videos.create_video_job, owner_id, folder=rel, original_path=f"{rel}/{original.name}",
                       filename=Path(filename).name, title=title.strip()[:200], exhibit=exhibit.strip()[:200],
                       exhibit_id=exhibit_id, notes=notes.strip()[:4000], consent=consent, sample_fps=sample_fps,
                       preset=preset)
    except VideoError as exc:  # named after the upload, not our copy
        shutil.rmtree(folder, ignore_errors=True)
        raise UploadError(str(exc).replace(f"file '{original.name}'", f"'{Path(filename).name}'"),
                          _reason(exc)) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _copy_video(stream: BinaryIO, dest: Path, limit: int, filename: str) -> None:
    try:
        copy_limited(stream, dest, limit)
    except OverLimit:
        raise UploadError(f"'{filename}' is larger than the limit of {limit / 1e6:.0f} MB (VIDEO_MAX_MB)",
                          "size") from None


def store_batch(settings: JobSettings, owner_id: int, files: list[tuple[str, BinaryIO]], *, title: str = "",
                exhibit: str = "", exhibit_id: int | None = None, notes: str = "",
                consent: bool = False) -> tuple[videos.Batch, "db.jobs.Job"]:
    """Save the photos (from files and zips) with a manifest and record the batch + its queued job.
    Every photo is checked before it is written (``upload_checks``); a refusal removes them all."""
    check_queue(settings, owner_id)
    budget = batch_budget(settings.data_dir, owner_id, settings.batch_max_bytes, settings.batch_user_max_bytes)
    folder, rel = _new_folder(settings, "batches", owner_id)
    try:
        (folder / UPLOADS).mkdir()
        manifest = [{"file": f"{UPLOADS}/{dest.name}", "name": name}
                    for name, dest in photos_from(files, settings.batch_max_photos, budget, folder / UPLOADS)]
        if not manifest:
            raise UploadError("no photo found in the upload (send JPEG, PNG, WebP or BMP files, or a zip of them)")
        (folder / MANIFEST).write_text(json.dumps(manifest))
        return _create(settings, videos.create_batch_job, owner_id, folder=rel, photos=len(manifest),
                       title=title.strip()[:200], exhibit=exhibit.strip()[:200], exhibit_id=exhibit_id,
                       notes=notes.strip()[:4000], consent=consent)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
