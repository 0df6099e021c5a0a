"""``/jobs``: the status of your video and photo-batch jobs; cancel and retry them.  Someone
else's job answers 404."""
from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException

import db
from db import jobs as job_rows
from portal.jobs.service import JobService

from .auth import current_user
from .context import ApiContext, get_ctx
from .schemas import Id, Job

log = logging.getLogger(__name__)
router = APIRouter(prefix="/jobs", tags=["videos and jobs"])
NOT_FOUND = "job not found"


def job_service(ctx: ApiContext = Depends(get_ctx)) -> JobService:
    """The web app's job service; 503 when this API runs without one."""
    if ctx.jobs is None:
        raise HTTPException(503, "background jobs are not available on this server")
    return ctx.jobs


def own_job(user: db.User, job_id: int) -> job_rows.Job:
    job = job_rows.get_job(job_id, user.id)
    if job is None:
        raise HTTPException(404, NOT_FOUND)
    return job


@router.get("/{job_id}", response_model=Job, summary="A job's status and progress")
def show(job_id: Id, user: db.User = Depends(current_user)):
    """``status``: queued, running, done, failed (``error`` says why) or cancelled; ``progress``
    0..1; ``worker``: the process that runs (or ran) it."""
    with db.connection():
        return job_rows.job_to_dict(own_job(user, job_id))


@router.post("/{job_id}/cancel", response_model=Job, responses={409: {"description": "already over"}})
def cancel(job_id: Id, user: db.User = Depends(current_user),
           service: JobService = Depends(job_service)):
    """Cancel a queued or running job (a running one stops between two frames)."""
    with db.connection():
        job = own_job(user, job_id)
        if not service.cancel(user.id, job.id):
            raise HTTPException(409, f"the job is {job.status}; only a queued or running job can be cancelled")
        log.info("job cancelled via API user_id=%d job_id=%d", user.id, job.id)
        return job_rows.job_to_dict(job_rows.get_job(job.id))


@router.post("/{job_id}/retry", response_model=Job, responses={409: {"description": "not failed or cancelled"}})
def retry(job_id: Id, user: db.User = Depends(current_user),
          service: JobService = Depends(job_service)):
    """Queue a failed or cancelled job again."""
    with db.connection():
        job = own_job(user, job_id)
        if not service.retry(user.id, job.id):
            raise HTTPException(409, f"the job is {job.status}; only a failed or cancelled job can be retried")
        log.info("job retried via API user_id=%d job_id=%d", user.id, job.id)
        return job_rows.job_to_dict(job_rows.get_job(job.id))
