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

from db.base import BaseModel, database, iso, utcnow, valid_id
from db.users import User

log = logging.getLogger(__name__)

JOB_KINDS = ("video", "batch")
STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")
CLAIM_ROUNDS = 10  # claim_next: how often to look at the queue again after losing every claim to others


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


class TooManyJobs(Exception):
    """The owner already has ``limit`` jobs queued or running."""

    def __init__(self, active: int, limit: int):
        super().__init__(f"{active} jobs queued or running, the limit is {limit}")
        self.active, self.limit = active, limit


def active_jobs(owner_id: int) -> int:
    """How many jobs the owner has queued or running."""
    return Job.select().where((Job.owner == owner_id) & Job.status.in_(ACTIVE)).count()


def create_job(owner_id: int, kind: str, params: dict[str, Any], max_active: int | None = None) -> Job:
    """A queued job; TooManyJobs when the owner already has ``max_active`` queued or running (call
    it inside the transaction that creates the job's video or batch)."""
    if kind not in JOB_KINDS:
        raise ValueError(f"job kind must be one of {JOB_KINDS}, not {kind!r}")
    if max_active is not None:
        active = active_jobs(owner_id)
        if active >= max_active:
            raise TooManyJobs(active, max_active)
    return Job.create(owner=owner_id, kind=kind, params_json=json.dumps(params), created_at=utcnow())


def get_job(job_id, owner_id: int | None = None) -> Job | None:
    """The job (None if unknown, not an id (e.g. above 2^63) or, with ``owner_id``, someone else's)."""
    job_id = valid_id(job_id)
    if job_id is None:
        return None
    cond = Job.id == job_id
    if owner_id is not None:
        cond &= Job.owner == owner_id
    return Job.get_or_none(cond)


def set_params(job_id: int, params: dict[str, Any]) -> None:
    Job.update(params_json=json.dumps(params)).where(Job.id == job_id).execute()


def _claim(worker: str, now: _dt.datetime):
    return Job.update(status="running", worker=worker, started_at=now, heartbeat_at=now, progress=0.0,
                      attempts=Job.attempts + 1, error=None)


def claim_job(job_id: int, worker: str, stale_s: float) -> Job | None:
    """Mark the job running for ``worker`` if it is queued, or running with a heartbeat older
    than ``stale_s`` (its worker died); returns it, or None if someone else has it / it is over."""
    now = utcnow()
    cutoff = now - _dt.timedelta(seconds=stale_s)
    claimable = (Job.status == "queued") | ((Job.status == "running") & (Job.heartbeat_at < cutoff))
    n = _claim(worker, now).where((Job.id == job_id) & claimable).execute()
    return get_job(job_id) if n == 1 else None


def _running(owner_id, cutoff: _dt.datetime):
    """The owner's running jobs whose worker is alive (a heartbeat since ``cutoff``)."""
    other = Job.alias()
    return other.select(pw.fn.COUNT(other.id)).where(
        (other.owner == owner_id) & (other.status == "running") & (other.heartbeat_at >= cutoff))


def fair_queue(max_running: int, stale_s: float) -> list[Job]:
    """The next job of each owner who may start one (fewer than ``max_running`` running), in the
    order they should start: fewest running first, then the owner whose last job started longest
    ago (round-robin), then the oldest job. Each owner's jobs start in the order they were queued."""
    cutoff = utcnow() - _dt.timedelta(seconds=stale_s)
    running = {r.owner_id: r.n for r in Job.select(Job.owner, pw.fn.COUNT(Job.id).alias("n")).where(
        (Job.status == "running") & (Job.heartbeat_at >= cutoff)).group_by(Job.owner)}
    first: dict[int, Job] = {}
    for job in Job.select(Job.id, Job.owner).where(Job.status == "queued").order_by(Job.id):
        if job.owner_id not in first and running.get(job.owner_id, 0) < max_running:
            first[job.owner_id] = job
    if not first:
        return []
    last = {r.owner_id: r.last for r in Job.select(Job.owner, pw.fn.MAX(Job.started_at).alias("last")).where(
        Job.owner.in_(list(first)) & Job.started_at.is_null(False)).group_by(Job.owner)}
    oldest = _dt.datetime.min
    return sorted(first.values(), key=lambda j: (running.get(j.owner_id, 0), last.get(j.owner_id) or oldest, j.id))


def claim_next(worker: str, max_running: int, stale_s: float) -> Job | None:
    """Claim the fairest queued job (:func:`fair_queue`) for ``worker``; None when no owner may
    start one. The owner's running count is checked in the same UPDATE (on PostgreSQL with the
    owner's row locked, so two workers never both take an owner's last slot). A claim lost to
    another worker looks at the queue again."""
    for _ in range(CLAIM_ROUNDS):
        candidates = fair_queue(max_running, stale_s)
        if not candidates:
            return None
        for job in candidates:
            if _claim_within_share(job, worker, max_running, stale_s):
                return get_job(job.id)
    return None


def _claim_within_share(job: Job, worker: str, max_running: int, stale_s: float) -> bool:
    now = utcnow()
    cutoff = now - _dt.timedelta(seconds=stale_s)
    with database.atomic():
        if database.for_update:  # SQLite: the transaction already holds the write lock
            list(User.select(User.id).where(User.id == job.owner_id).for_update())
        n = _claim(worker, now).where((Job.id == job.id) & (Job.status == "queued")
                                      & (_running(job.owner_id, cutoff) < max_running)).execute()
    return n == 1


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
    return {"id": job.id, "kind": job.kind, "status": job.status, "progress": round(job.progress, 4),
            "error": job.error, "attempts": job.attempts, "worker": job.worker,
            "created_at": iso(job.created_at), "started_at": iso(job.started_at),
            "finished_at": iso(job.finished_at), **job.params}
