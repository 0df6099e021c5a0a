"""Background jobs (video analyses, photo batches) stored in the database.

A job goes ``queued -> running -> done | failed | cancelled``; a failed or cancelled job can
be queued again (``retry``). Every state change is one conditional UPDATE, so two workers
never both run a job and a cancel is never lost: the worker's progress write
(:func:`report_progress`) only succeeds while the job is still ``running`` and tells it to stop
otherwise. ``heartbeat_at`` is refreshed with each progress write; a ``running`` job whose
heartbeat is older than a few seconds was abandoned by a dead worker and may be claimed again.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
from typing import Any, Iterable

import peewee as pw

from .models import BaseModel, User, database, utcnow

log = logging.getLogger(__name__)

JOB_KINDS = ("video", "batch")
STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")


class Job(BaseModel):
    owner = pw.ForeignKeyField(User, backref="jobs", on_delete="CASCADE", index=True)
    kind = pw.CharField(max_length=16)  # one of JOB_KINDS
    status = pw.CharField(max_length=16, default="queued", index=True)
    progress = pw.FloatField(default=0.0)  # 0..1
    error = pw.TextField(null=True)
    attempts = pw.IntegerField(default=0)
    created_at = pw.DateTimeField(default=utcnow)
    started_at = pw.DateTimeField(null=True)
    finished_at = pw.DateTimeField(null=True)
    heartbeat_at = pw.DateTimeField(null=True)
    worker = pw.CharField(max_length=200, null=True)
    params_json = pw.TextField(default="{}")  # refs, e.g. {"video_id": 3}
    result_json = pw.TextField(default="{}")  # refs to what it produced

    class Meta:
        table_name = "jobs"

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.params_json or "{}")

    @property
    def result(self) -> dict[str, Any]:
        return json.loads(self.result_json or "{}")


def create_job(owner_id: int, kind: str, params: dict[str, Any]) -> Job:
    if kind not in JOB_KINDS:
        raise ValueError(f"job kind must be one of {JOB_KINDS}, not {kind!r}")
    return Job.create(owner=owner_id, kind=kind, params_json=json.dumps(params), created_at=utcnow())


def get_job(job_id, owner_id: int | None = None) -> Job | None:
    """The job (None if unknown or, with ``owner_id``, someone else's)."""
    try:
        job_id = int(job_id)
    except (TypeError, ValueError):
        return None
    cond = Job.id == job_id
    if owner_id is not None:
        cond &= Job.owner == owner_id
    return Job.get_or_none(cond)


def set_params(job_id: int, params: dict[str, Any]) -> None:
    Job.update(params_json=json.dumps(params)).where(Job.id == job_id).execute()


def claim_job(job_id: int, worker: str, stale_s: float) -> Job | None:
    """Mark the job running for ``worker`` if it is queued, or running with a heartbeat older
    than ``stale_s`` (its worker died); returns it, or None if someone else has it / it is over."""
    now = utcnow()
    cutoff = now - _dt.timedelta(seconds=stale_s)
    claimable = (Job.status == "queued") | ((Job.status == "running") & (Job.heartbeat_at < cutoff))
    n = (Job.update(status="running", worker=worker, started_at=now, heartbeat_at=now, progress=0.0,
                    attempts=Job.attempts + 1, error=None)
         .where((Job.id == job_id) & claimable).execute())
    return get_job(job_id) if n == 1 else None


def report_progress(job_id: int, worker: str, progress: float) -> bool:
    """Store progress + heartbeat; False when the job is no longer this worker's running job
    (cancelled, or taken over): the worker must stop."""
    n = (Job.update(progress=min(max(float(progress), 0.0), 1.0), heartbeat_at=utcnow())
         .where((Job.id == job_id) & (Job.status == "running") & (Job.worker == worker)).execute())
    return n == 1


def finish_job(job_id: int, worker: str, result: dict[str, Any]) -> bool:
    n = (Job.update(status="done", progress=1.0, finished_at=utcnow(), result_json=json.dumps(result))
         .where((Job.id == job_id) & (Job.status == "running") & (Job.worker == worker)).execute())
    return n == 1


def fail_job(job_id: int, worker: str | None, error: str) -> bool:
    cond = (Job.id == job_id) & (Job.status.in_(ACTIVE))
    if worker is not None:
        cond &= Job.worker == worker
    return Job.update(status="failed", error=error[:2000], finished_at=utcnow()).where(cond).execute() == 1


def cancel_job(job_id: int) -> bool:
    """Queued or running -> cancelled (a running job's worker stops at its next progress write)."""
    n = (Job.update(status="cancelled", finished_at=utcnow())
         .where((Job.id == job_id) & (Job.status.in_(ACTIVE))).execute())
    return n == 1


def retry_job(job_id: int) -> bool:
    """Failed or cancelled -> queued again (progress, error, worker reset; attempts kept)."""
    n = (Job.update(status="queued", progress=0.0, error=None, worker=None, started_at=None,
                    finished_at=None, heartbeat_at=None)
         .where((Job.id == job_id) & (Job.status.in_(("failed", "cancelled")))).execute())
    return n == 1


def requeue_abandoned(stale_s: float, dead_workers: Iterable[str] = ()) -> list[int]:
    """Running jobs whose worker is known dead, or silent for ``stale_s``, go back to queued.
    Returns their ids (the caller resubmits them)."""
    cutoff = utcnow() - _dt.timedelta(seconds=stale_s)
    dead = list(dead_workers)
    abandoned = (Job.heartbeat_at < cutoff) | Job.heartbeat_at.is_null()
    if dead:
        abandoned |= Job.worker.in_(dead)
    cond = (Job.status == "running") & abandoned
    with database.atomic():
        ids = [j.id for j in Job.select(Job.id).where(cond)]
        if ids:
            Job.update(status="queued", worker=None).where(Job.id.in_(ids) & (Job.status == "running")).execute()
    if ids:
        log.warning("re-queued %d abandoned job(s): %s", len(ids), ids)
    return ids


def running_workers() -> list[str]:
    return [j.worker for j in Job.select(Job.worker).where(Job.status == "running").distinct() if j.worker]


def queued_job_ids() -> list[int]:
    return [j.id for j in Job.select(Job.id).where(Job.status == "queued").order_by(Job.id)]


def job_to_dict(job: Job) -> dict[str, Any]:
    def iso(d):
        return d.replace(microsecond=0).isoformat() + "Z" if d else None

    return {"id": job.id, "kind": job.kind, "status": job.status, "progress": round(job.progress, 4),
            "error": job.error, "attempts": job.attempts, "worker": job.worker,
            "created_at": iso(job.created_at), "started_at": iso(job.started_at),
            "finished_at": iso(job.finished_at), **job.params}
