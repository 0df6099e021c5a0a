"""Issue 18.7 on the Celery backend (a real ``celery worker`` on the local Redis and PostgreSQL):
the worker takes the accounts in turn, so another account's job does not wait behind one
account's queue (before: Celery ran the messages in the order they were sent)."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest

import db
from db import jobs
from db.testing import postgres_available
from portal.jobs.service import JobService
from portal.jobs.uploads import store_batch

from .conftest import REDIS_URL, redis_ok, start_worker, stop, wait_for

pytestmark = [pytest.mark.skipif(not redis_ok(), reason=f"Redis not reachable at {REDIS_URL}"),
              pytest.mark.skipif(not postgres_available(), reason="PostgreSQL not reachable")]


def one_photo(seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [("p.jpg", io.BytesIO(cv2.imencode(".jpg", rng.integers(0, 255, (48, 48, 3), dtype=np.uint8))[1].tobytes()))]


def test_celery_worker_takes_the_accounts_in_turn(pg_settings):
    with db.connection():
        ann, ben = (db.create_user(n, f"{n}@example.org", "h").id for n in ("ann", "ben"))
    service = JobService(pg_settings)
    ann_jobs = [store_batch(pg_settings, ann, one_photo(i))[1].id for i in range(5)]
    ben_job = store_batch(pg_settings, ben, one_photo(9))[1].id
    for job_id in [*ann_jobs, ben_job]:  # all sent before the worker starts: ben's message is the last
        service.submit(job_id)
    worker = start_worker(pg_settings)
    try:
        done = [wait_for(j) for j in [*ann_jobs, ben_job]]
    finally:
        stop(worker)
        service.shutdown()
    assert [j.status for j in done] == ["done"] * 6
    order = [j.id for j in sorted(done, key=lambda j: j.started_at)]
    assert order.index(ben_job) == 1, order  # right after ann's first, not after all five
    assert [j for j in order if j != ben_job] == ann_jobs  # each account's jobs in the order queued
    assert all(j.worker.startswith("celery@") for j in done)
    with db.connection():
        assert jobs.active_jobs(ann) == 0
