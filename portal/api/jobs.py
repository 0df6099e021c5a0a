"""``/jobs``: the status of your video and photo-batch jobs; cancel and retry them.  Someone
else's job answers 404."""
from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException

import db
from db import jobs as job_rows
from portal.api.deps import CurrentUser, Jobs
from portal.api.schemas import Id, Job, declared
from portal.jobs.uploads import UploadError

log = logging.getLogger(__name__)
NO_JOBS = declared(described={503: "background jobs are not available on this server"})
router = APIRouter(prefix="/jobs", tags=["videos and jobs"], responses=NO_JOBS)
NOT_FOUND = "job not found"




def own_job(user: db.User, job_id: int) -> job_rows.Job:
    job = job_rows.get_job(job_id, user.id)
    if job is None:
        raise HTTPException(404, NOT_FOUND)
    return job


@router.get("/{job_id}", response_model=Job, summary="A job's status and progress")
def show(job_id: Id, user: CurrentUser):
    """``status``: queued, running, done, failed (``error`` says why) or cancelled; ``progress``
    0..1; ``worker``: the process that runs (or ran) it."""
    with db.connection():
        return job_rows.job_to_dict(own_job(user, job_id))


def _act(user: db.User, job_id: int, act, verb: str, which: str) -> dict:
    """``act(user_id, job_id)`` on the user's job; 409 naming the job's status when it does not apply."""
    with db.connection():
        job = own_job(user, job_id)
        try:
            done = act(user.id, job.id)
        except UploadError as exc:  # a retry refused: the account's queue is full, the photos are gone
            raise HTTPException(429 if exc.reason == "busy" else 409, str(exc)) from None
        if not done:
            raise HTTPException(409, f"the job is {job.status}; only a {which} job can be {verb}")
        log.info("job %s via API user_id=%d job_id=%d", verb, user.id, job.id)
        return job_rows.job_to_dict(job_rows.get_job(job.id))


@router.post("/{job_id}/cancel", response_model=Job, responses=declared(described={409: "already over"}))
def cancel(job_id: Id, user: CurrentUser,
           service: Jobs):
    """Cancel a queued or running job (a running one stops between two frames)."""
    return _act(user, job_id, service.cancel, "cancelled", "queued or running")


@router.post("/{job_id}/retry", response_model=Job, responses=declared(429, described={409: "not failed or cancelled, or its photos are gone"}))
def retry(job_id: Id, user: CurrentUser,
          service: Jobs):
    """Queue a failed or cancelled job again."""
    return _act(user, job_id, service.retry, "retried", "failed or cancelled")
