"""Embedded backend: the server's own process pool (no extra service to run)."""
from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor

from .settings import JobSettings
from .worker import run_next_jobs

log = logging.getLogger(__name__)


def _init_worker(log_level: int) -> None:
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


class EmbeddedBackend:
    """Jobs run in ``settings.pool_size`` spawned processes (spawn: the server has threads). Each
    job sent adds one :func:`run_next_jobs` to the pool, which runs the fairest job that may start
    (not necessarily this one: the accounts take turns, see ``db.jobs.claim_next``)."""

    name = "embedded"

    def __init__(self, settings: JobSettings):
        self.settings = settings
        self._pool = ProcessPoolExecutor(settings.pool_size, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_init_worker, initargs=(logging.getLogger().level,))
        self.futures: dict[int, Future] = {}

    def send(self, job_id: int) -> None:
        future = self._pool.submit(run_next_jobs, self.settings, "embedded")
        self.futures[job_id] = future
        future.add_done_callback(lambda f, j=job_id: self._done(j, f))

    def _done(self, job_id: int, future: Future) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:  # the pool itself broke (a worker was killed): the job is re-queued at start-up
            log.error("job %d: worker process failed: %r", job_id, exc)
        self.futures.pop(job_id, None)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
