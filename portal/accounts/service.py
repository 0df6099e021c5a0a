"""Deleting an account and every file it owns; removing what deleted accounts left behind.

    summary = delete_account(data_dir, user_id, jobs=job_service, recorder=recorder)
    remove_orphan_folders(data_dir)          # at start-up (portal.web.factory.create_app)

Framework-free (the Flask account page calls it).  What a user owns on disk:

* ``uploads/<user>/``: their computations' images (and generated downloads,
  ``downloads/<computation>-*``, and Gradio's copies of them);
* ``videos/<user>/<stamp-token>/``: each video's upload and results (the annotated video shows
  faces), ``batches/<user>/<stamp-token>/``: each photo batch's files.

Issue 18: deleting an account removed the first kind only; the video and batch folders stayed
(3 GB in one test), and the next user, given the same id, found them in "their" folders.
"""
from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import db
from db import jobs as job_rows
from db import videos
from portal.analyses import storage

log = logging.getLogger(__name__)
USER_FOLDERS = ("uploads", "videos", "batches")  # DATA_DIR/<kind>/<user id>/...
ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class AccountDeleted:
    videos: int  # videos deleted (rows, observations, folders)
    batches: int  # photo batches deleted (their analyses too)
    files: int  # computation images and generated downloads removed


def delete_account(data_dir: Path, user_id: int, jobs=None, recorder=None) -> AccountDeleted:
    """Delete the user and everything they own: their running recordings are dropped, their jobs
    cancelled, their videos and photo batches deleted with their folders
    (``jobs``: the :class:`portal.jobs.service.JobService`), then the user with their
    computations, organisations, tokens and sessions (the database cascades), the computations'
    images and downloads, and the user's folders under ``uploads/``, ``videos/`` and ``batches/``."""
    data_dir = Path(data_dir)
    if recorder is not None:  # buffered observations would be flushed into deleted sessions
        for rec in recorder.running(user_id):
            recorder.discard(user_id, rec.id)
    n_videos, n_batches = _delete_jobs_and_results(jobs, user_id)
    with db.connection(), db.database.atomic():  # the files to remove, then the rows (cascading)
        comp_ids = db.computation_ids(user_id)
        paths = db.owned_paths(user_id)
        db.delete_user(user_id)
    files = storage.remove_files(data_dir, paths) + storage.remove_downloads(data_dir, comp_ids)
    for kind in USER_FOLDERS:  # whatever is left, e.g. a file a cancelled job wrote last
        shutil.rmtree(data_dir / kind / str(int(user_id)), ignore_errors=True)
    log.info("account deleted user_id=%d videos=%d batches=%d files_removed=%d",
             user_id, n_videos, n_batches, files)
    return AccountDeleted(n_videos, n_batches, files)


def _delete_jobs_and_results(jobs, user_id: int) -> tuple[int, int]:
    """Each video and photo batch through the job service (cancel, rows, folder); then any
    job still active is cancelled, so no worker goes on writing for a deleted user."""
    with db.connection():
        video_ids = [v.id for v in videos.Video.select(videos.Video.id).where(videos.Video.owner == user_id)]
        batch_ids = [b.id for b in videos.Batch.select(videos.Batch.id).where(videos.Batch.owner == user_id)]
    if jobs is not None:
        n_videos = sum(jobs.delete_video(user_id, vid) for vid in video_ids)
        n_batches = sum(jobs.delete_batch(user_id, bid) for bid in batch_ids)
    else:  # no job service (a bare portal): the rows cascade, the folders go below
        n_videos, n_batches = len(video_ids), len(batch_ids)
    with db.connection():
        active = job_rows.Job.select(job_rows.Job.id).where((job_rows.Job.owner == user_id)
                                                            & (job_rows.Job.status.in_(ACTIVE)))
        for job in list(active):
            job_rows.cancel_job(job.id)
    return n_videos, n_batches


def remove_orphan_folders(data_dir: Path, grace_s: float = storage.ORPHAN_GRACE_S) -> int:
    """Remove ``videos/<user>/`` and ``batches/<user>/`` folders of users that no longer exist
    (older than ``grace_s``: a user created meanwhile by another process may be uploading);
    returns how many.  Needs the database (called by the app factory at start-up)."""
    with db.connection():
        users = {u.id for u in db.User.select(db.User.id)}
    cutoff, removed = time.time() - grace_s, 0
    for kind in ("videos", "batches"):
        root = Path(data_dir) / kind
        for folder in sorted(root.iterdir()) if root.is_dir() else ():
            if folder.is_dir() and folder.name.isdigit() and int(folder.name) not in users \
                    and _newest_change(folder) < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
    if removed:
        log.info("start-up clean-up: removed %d video/batch folders of deleted users", removed)
    return removed


def _newest_change(folder: Path) -> float:
    """The latest modification time of ``folder`` and everything in it."""
    times = [folder.lstat().st_mtime]
    for path in folder.rglob("*"):
        try:
            times.append(path.lstat().st_mtime)
        except FileNotFoundError:
            pass
    return max(times)
