"""Embedded backend: the server's own process pool (no extra service to run)."""
from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor

from portal.jobs.settings import JobSettings
from portal.jobs.worker import run_next_jobs

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
        self._closing = False

    def send(self, job_id: int) -> None:
        future = self._pool.submit(run_next_jobs, self.settings, "embedded")
        self.futures[job_id] = future
        future.add_done_callback(lambda f, j=job_id: self._done(j, f))

    def _done(self, job_id: int, future: Future) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None and self._closing:
            log.info("job %d: worker stopped with the server; it is re-queued at the next start", job_id)
        elif exc is not None:  # the pool itself broke (a worker was killed): the job is re-queued at start-up
            log.error("job %d: worker process failed: %r", job_id, exc)
        self.futures.pop(job_id, None)

    def shutdown(self, wait: bool = True, grace_s: float = 5.0) -> None:
        """``wait``: let the pool finish every job sent.  Otherwise (the server stopping, see
        run.py's lifespan) nothing more starts and the workers are terminated at once (killed
        after ``grace_s``): a job they were running stays "running" and is re-queued at the next
        start (``recover_jobs``: its worker is dead).  multiprocessing's resource tracker ends by
        itself once the server and its workers are gone."""
        if wait:
            self._pool.shutdown(wait=True)
            return
        self._closing = True
        workers = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in workers:
            process.terminate()
        for process in workers:
            process.join(grace_s)
            if process.is_alive():
                process.kill()
                process.join(1)
        log.info("job pool shut down (%d worker(s) stopped)", len(workers))
