"""Issue 18.5: jobs on the embedded default (SQLite) must not fail with "database is locked".

Before the fix, 12 photo batches of 6 photos queued by one user on SQLite (two pool workers
plus the server) lost 3 jobs to ``peewee.OperationalError: database is locked``: a transaction
that reads and then writes (``clear_batch_items`` at the start of every batch job) cannot
upgrade its read snapshot once another process has written, and SQLite fails it at once,
without waiting for the busy timeout. These tests run parallel writer processes and check that
no job fails and no row is lost."""
from __future__ import annotations

import io
import multiprocessing
import time
from dataclasses import replace

import cv2
import numpy as np
import pytest

import db
from db import jobs, videos
from portal.jobs.service import JobService
from portal.jobs.uploads import store_batch

from .conftest import TERMINAL

BATCHES, PHOTOS = 24, 6


def tiny_jpeg(rng) -> bytes:
    """A 48x48 photo without a face: analysed in milliseconds, so the workers mostly write."""
    return cv2.imencode(".jpg", rng.integers(0, 255, (48, 48, 3), dtype=np.uint8))[1].tobytes()


@pytest.fixture
def database_url(tmp_path):
    return str(tmp_path / "data" / "app.sqlite3")


@pytest.fixture
def sqlite_settings(settings):
    """Two workers, and two of an account's jobs at once: both workers and the server write all the time."""
    return replace(settings, workers=2, running_per_user=2, queue_per_user=BATCHES)


def test_parallel_photo_batches_on_sqlite_neither_fail_nor_lose_rows(sqlite_settings):
    settings, rng = sqlite_settings, np.random.default_rng(0)
    with db.connection():
        owner = db.create_user("many", "many@example.org", "h").id
    service = JobService(settings)
    ids = []
    try:
        for b in range(BATCHES):  # the server keeps writing (uploads) while the workers run
            files = [(f"p{i}.jpg", io.BytesIO(tiny_jpeg(rng))) for i in range(PHOTOS)]
            _, job = store_batch(settings, owner, files, title=f"b{b}")
            service.submit(job.id)
            ids.append(job.id)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            with db.connection():  # and reads, as the progress page does
                states = [jobs.get_job(i) for i in ids]
            if all(j.status in TERMINAL for j in states):
                break
            time.sleep(0.05)
    finally:
        service.shutdown(wait=True)
    assert [(j.id, j.status, j.error) for j in states if j.status != "done"] == []
    with db.connection():
        assert db.count_computations(owner) == BATCHES * PHOTOS
        assert sum(len(videos.batch_items(b.id)) for b in videos.list_batches(owner)) == BATCHES * PHOTOS


def _writer(url: str, owner: int, batch_id: int, rounds: int, errors) -> None:
    """One process: the batch job's unit of work, over and over (read, then write)."""
    db.init(url)
    try:
        for i in range(rounds):
            with db.connection():
                videos.clear_batch_items(batch_id)  # SELECT, then DELETE: a reader that becomes a writer
                with db.database.atomic():
                    comp = db.record_computation(owner_id=owner, kind="upload", result={}, faces_found=0,
                                                 dominant_emotion=None, timings={}, model_version="t")
                    videos.add_batch_item(batch_id, comp.id, f"{i}.jpg")
                jobs.report_progress(0, "w", 0.5)
    except Exception as exc:  # noqa: BLE001 - reported to the test
        errors.put(f"{type(exc).__name__}: {exc}")


def test_parallel_writer_processes_that_read_then_write(sqlite_settings):
    url, writers, rounds = sqlite_settings.database_url, 4, 60
    with db.connection():
        owner = db.create_user("w", "w@example.org", "h").id
        batch_ids = [videos.create_batch_job(owner, folder=f"batches/{owner}/{k}", photos=1)[0].id
                     for k in range(writers)]
    ctx = multiprocessing.get_context("spawn")
    errors = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(url, owner, b, rounds, errors)) for b in batch_ids]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == [] and [p.exitcode for p in procs] == [0] * writers
    with db.connection():
        assert [len(videos.batch_items(b)) for b in batch_ids] == [1] * writers  # the last round of each
        assert db.get_user(owner).computation_count == writers * rounds


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_settings):
    with db.connection():
        assert db.database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.database.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 10_000
