"""The job service the web layer uses: submit, cancel, retry (owner-scoped), recover."""
from __future__ import annotations

import logging

import db
from db import jobs, videos
from portal.analyses.storage import remove_files
from portal.jobs.batch_task import NO_UPLOADS, discard_uploads, has_uploads
from portal.jobs.settings import JobSettings
from portal.jobs.uploads import UploadError, queue_message, remove_folder
from portal.jobs.worker import dead_local_workers

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
                from portal.jobs.celery_backend import CeleryBackend

                backend = CeleryBackend(settings)
            else:
                from portal.jobs.embedded import EmbeddedBackend

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
        """True if the owner's queued/running job is now cancelled (False: not found or over).
        A batch's uploaded photos are removed at once (a running worker stops at its next check)."""
        job = jobs.get_job(job_id, owner_id)
        if job is None or not jobs.cancel_job(job.id):
            return False
        if job.kind == "batch":
            discard_uploads(job, self.settings.data_dir)
        return True

    def retry(self, owner_id: int, job_id) -> bool:
        """Queue the owner's failed or cancelled job again (False: not found, or not failed or
        cancelled). UploadError when it may not: the owner's queue is full ("busy"), or a batch
        whose photos were removed when it ended ("gone")."""
        job = jobs.get_job(job_id, owner_id)
        if job is None or job.status not in ("failed", "cancelled"):
            return False
        self._check_retry(owner_id, job)
        if not jobs.retry_job(job.id):
            return False
        self.backend.send(job.id)
        return True

    def _check_retry(self, owner_id: int, job: jobs.Job) -> None:
        active = jobs.active_jobs(owner_id)
        if active >= self.settings.queue_per_user:
            raise UploadError(queue_message(active, self.settings.queue_per_user), "busy")
        if job.kind == "batch":
            batch = videos.get_batch(job.params.get("batch_id"))
            if batch is not None and not has_uploads(self.settings.data_dir, batch.folder):
                raise UploadError(NO_UPLOADS, "gone")

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
