"""What a running job uses to report progress and to learn it was stopped (shared by the tasks
and the worker loop, so the tasks need not import the worker)."""
from __future__ import annotations

import time

import db
from db import jobs


class JobStopped(Exception):
    """The job was cancelled (or taken over) while it ran."""


class JobInputError(ValueError):
    """The job's input is unusable; the message is shown to the user as the job's error."""


class Reporter:
    """``progress(f)`` keeps the latest fraction; ``check()`` writes it (with the heartbeat) at
    most every ``interval`` s and raises JobStopped when the job is no longer ours to run."""

    def __init__(self, job_id: int, worker: str, interval: float = 0.5):
        self.job_id, self.worker, self.interval = job_id, worker, interval
        self.fraction = 0.0
        self._last = 0.0

    def progress(self, fraction: float) -> None:
        self.fraction = fraction
        self.check()

    def check(self) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        with db.connection():
            alive = jobs.report_progress(self.job_id, self.worker, self.fraction)
        if not alive:
            raise JobStopped(f"job {self.job_id} was cancelled")

    def confirm(self) -> None:
        """Check now (not at most every ``interval``) that the job is still ours: before a job
        publishes its outputs, so that a cancelled (and perhaps retried) run never replaces them."""
        self._last = float("-inf")
        self.check()

    def should_stop(self) -> bool:
        try:
            self.check()
        except JobStopped:
            return True
        return False
