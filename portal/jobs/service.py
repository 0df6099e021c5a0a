"""The job service the web layer uses: submit, cancel, retry (owner-scoped), recover."""
from __future__ import annotations

import logging

import db
from db import jobs, videos

from ..records.storage import remove_files

from .settings import JobSettings
from .uploads import remove_folder
from .worker import dead_local_workers

log = logging.getLogger(__name__)


def recover_jobs(settings: JobSettings) -> list[int]:
    """Re-queue jobs abandoned by dead workers; returns every queued job id (to send again).
    The database must be initialised (the server did; a worker calls ``ensure_db`` first)."""
    with db.connection():
        dead = dead_local_workers(jobs.running_workers())
        jobs.requeue_abandoned(settings.stale_s, dead)
        return jobs.queued_job_ids()


class JobService:
    def __init__(self, settings: JobSettings, backend=None):
        self.settings = settings
        if backend is None:
            if settings.backend == "celery":
                from .celery_backend import CeleryBackend

                backend = CeleryBackend(settings)
            else:
                from .embedded import EmbeddedBackend

                backend = EmbeddedBackend(settings)
        self.backend = backend
        log.info("job backend: %s", self.backend.name)

    def start(self) -> list[int]:
        """At server start (embedded): re-queue what a crash left running and send every queued job."""
        if self.backend.name != "embedded":
            return []
        ids = recover_jobs(self.settings)
        for job_id in ids:
            self.backend.send(job_id)
        return ids

    def submit(self, job_id: int) -> None:
        self.backend.send(job_id)

    def cancel(self, owner_id: int, job_id) -> bool:
        """True if the owner's queued/running job is now cancelled (False: not found or over)."""
        job = jobs.get_job(job_id, owner_id)
        return job is not None and jobs.cancel_job(job.id)

    def retry(self, owner_id: int, job_id) -> bool:
        job = jobs.get_job(job_id, owner_id)
        if job is None or not jobs.retry_job(job.id):
            return False
        self.backend.send(job.id)
        return True

    def delete_video(self, owner_id: int, video_id) -> bool:
        """Delete the owner's video: its job (a running worker stops at its next progress write),
        its record (observations cascade) and its folder.  False if it is not the owner's."""
        with db.connection():
            video = videos.get_video(video_id, owner_id)
            if video is None:
                return False
            if video.job_id:
                jobs.cancel_job(video.job_id)
            folder = videos.delete_video(owner_id, video.id)
        remove_folder(self.settings, folder)
        return folder is not None

    def delete_batch(self, owner_id: int, batch_id) -> bool:
        """Delete the owner's photo batch: its job, its analyses (and their observations), their
        images and the batch folder.  False if it is not the owner's."""
        with db.connection():
            batch = videos.get_batch(batch_id, owner_id)
            if batch is None:
                return False
            if batch.job_id:
                jobs.cancel_job(batch.job_id)
            removed = videos.delete_batch(owner_id, batch.id)
        if removed is None:
            return False
        folder, paths = removed
        remove_files(self.settings.data_dir, paths)
        remove_folder(self.settings, folder)
        return True

    def shutdown(self, wait: bool = False) -> None:
        self.backend.shutdown(wait=wait)
