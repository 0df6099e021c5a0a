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
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Iterable

import db
from db import videos
from realtime.video import PRESETS
from realtime.video_io import (ACCEPTED_SUFFIXES, CorruptVideoError, UnsupportedVideoError, VideoError,
                               VideoTooLargeError, probe)

from .batch_task import MANIFEST
from .settings import JobSettings

log = logging.getLogger(__name__)

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
MAX_PHOTO_BYTES = 25 * 1024 * 1024


class UploadError(ValueError):
    """The upload is refused; the message says why.  ``reason``: "format" (not a video/photo we
    read), "size" (over a limit) or "invalid" (anything else), for the API's status codes."""

    def __init__(self, message: str, reason: str = "invalid"):
        super().__init__(message)
        self.reason = reason


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


def remove_folder(settings: JobSettings, rel: str | None) -> None:
    """Remove a video/batch folder (only inside DATA_DIR/videos or DATA_DIR/batches)."""
    if not rel:
        return
    base = Path(settings.data_dir).resolve()
    path = (base / rel).resolve()
    if path.parent.parent.parent != base or path.parent.parent.name not in ("videos", "batches"):
        log.warning("refusing to remove a folder outside the job folders")
        return
    shutil.rmtree(path, ignore_errors=True)


def _copy_limited(src: BinaryIO, dest: Path, limit: int, what: str) -> int:
    size = 0
    with open(dest, "wb") as out:
        while chunk := src.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                raise UploadError(f"{what} is larger than the limit of {limit / 1e6:.0f} MB", "size")
            out.write(chunk)
    return size


def store_video(settings: JobSettings, owner_id: int, stream: BinaryIO, filename: str, *, title: str = "",
                exhibit: str = "", exhibit_id: int | None = None, notes: str = "", consent: bool = False,
                sample_fps: float | None = None, preset: str = "default") -> tuple[videos.Video, "db.jobs.Job"]:
    """Save, check (container, stream, limits) and record the video with its queued job."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        raise UploadError(f"'{filename}' is not a video we accept; send one of: {', '.join(ACCEPTED_SUFFIXES)}",
                          "format")
    if preset not in PRESETS:
        raise UploadError(f"unknown preset '{preset}'; choose one of: {', '.join(PRESETS)}")
    if sample_fps is not None and not 0 < sample_fps <= 240:
        raise UploadError("frames analysed per second must be between 0 and 240 (empty: every frame)")
    folder, rel = _new_folder(settings, "videos", owner_id)
    try:
        original = folder / f"original{suffix}"
        _copy_limited(stream, original, settings.video_limits.max_bytes, f"'{filename}'")
        probe(original, settings.video_limits)
        with db.connection():
            return videos.create_video_job(
                owner_id, folder=rel, original_path=f"{rel}/{original.name}", filename=Path(filename).name,
                title=title.strip()[:200], exhibit=exhibit.strip()[:200], exhibit_id=exhibit_id,
                notes=notes.strip()[:4000], consent=consent, sample_fps=sample_fps, preset=preset)
    except VideoError as exc:  # named after the upload, not our copy
        shutil.rmtree(folder, ignore_errors=True)
        raise UploadError(str(exc).replace(f"file '{original.name}'", f"'{Path(filename).name}'"),
                          _reason(exc)) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _photos_from(files: Iterable[tuple[str, BinaryIO]], limit: int) -> Iterable[tuple[str, BinaryIO]]:
    """(name, stream) of every photo: plain files, and the photos inside zip files."""
    count = 0
    for name, stream in files:
        if Path(name).suffix.lower() == ".zip":
            try:
                archive = zipfile.ZipFile(stream)
            except zipfile.BadZipFile:
                raise UploadError(f"'{name}' is not a readable zip file", "format") from None
            members = [m for m in archive.infolist() if not m.is_dir() and Path(m.filename).suffix.lower() in PHOTO_SUFFIXES]
            for m in members:
                if m.file_size > MAX_PHOTO_BYTES:
                    raise UploadError(f"'{m.filename}' in '{name}' is larger than {MAX_PHOTO_BYTES // 2**20} MB",
                                      "size")
                count += 1
                if count > limit:
                    raise UploadError(f"a batch holds at most {limit} photos", "size")
                with archive.open(m) as fh:
                    yield Path(m.filename).name, fh
        elif Path(name).suffix.lower() in PHOTO_SUFFIXES:
            count += 1
            if count > limit:
                raise UploadError(f"a batch holds at most {limit} photos", "size")
            yield Path(name).name, stream
        else:
            raise UploadError(f"'{name}' is neither a photo ({', '.join(PHOTO_SUFFIXES)}) nor a zip of photos",
                              "format")


def store_batch(settings: JobSettings, owner_id: int, files: list[tuple[str, BinaryIO]], *, title: str = "",
                exhibit: str = "", exhibit_id: int | None = None, notes: str = "",
                consent: bool = False) -> tuple[videos.Batch, "db.jobs.Job"]:
    """Save the photos (from files and zips) with a manifest and record the batch + its queued job."""
    folder, rel = _new_folder(settings, "batches", owner_id)
    try:
        (folder / "uploads").mkdir()
        manifest = []
        for i, (name, stream) in enumerate(_photos_from(files, settings.batch_max_photos)):
            dest = folder / "uploads" / f"{i + 1:04d}{Path(name).suffix.lower()}"
            _copy_limited(stream, dest, MAX_PHOTO_BYTES, f"'{name}'")
            manifest.append({"file": f"uploads/{dest.name}", "name": name})
        if not manifest:
            raise UploadError("no photo found in the upload (send JPEG, PNG, WebP or BMP files, or a zip of them)")
        (folder / MANIFEST).write_text(json.dumps(manifest))
        with db.connection():
            return videos.create_batch_job(owner_id, folder=rel, photos=len(manifest), title=title.strip()[:200],
                                           exhibit=exhibit.strip()[:200], exhibit_id=exhibit_id,
                                           notes=notes.strip()[:4000], consent=consent)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
