"""Issue 18.7: the job queue is shared fairly (SQLite and PostgreSQL): at most ``max_running``
running jobs per account, the accounts in turn, each account's jobs in order; a limit on the
jobs an account may have queued or running; ids that cannot be ids find nothing."""
from __future__ import annotations

import threading

import pytest

import db
from db import jobs, videos


@pytest.fixture
def users(database):
    return [db.create_user(n, f"{n}@example.org", "h").id for n in ("ann", "ben", "cat")]


def _batch(owner_id: int, **kw) -> int:
    return videos.create_batch_job(owner_id, folder=f"batches/{owner_id}/x", photos=1, **kw)[1].id


def test_another_accounts_job_is_claimed_before_the_rest_of_a_long_queue(users):
    ann, ben, _ = users
    ann_jobs = [_batch(ann) for _ in range(30)]
    ben_job = _batch(ben)
    first = jobs.claim_next("w1", max_running=1, stale_s=60)
    second = jobs.claim_next("w2", max_running=1, stale_s=60)
    assert (first.id, second.id) == (ann_jobs[0], ben_job)  # not ann's 2nd: one at a time per account
    assert jobs.claim_next("w3", max_running=1, stale_s=60) is None  # both accounts at their share
    jobs.finish_job(first.id, "w1", {})
    assert jobs.claim_next("w1", max_running=1, stale_s=60).id == ann_jobs[1]  # in the order queued


def test_accounts_take_turns_when_they_may_run_several(users):
    ann, ben, cat = users
    for u in (ann, ben):
        for _ in range(3):
            _batch(u)
    order = []
    for _ in range(4):  # each job ends before the next claim: nobody is running
        job = jobs.claim_next("w", max_running=2, stale_s=60)
        order.append(job.owner_id)
        jobs.finish_job(job.id, "w", {})
    assert order == [ann, ben, ann, ben]  # round-robin, not ann's three first
    late = _batch(cat)
    assert jobs.claim_next("w", max_running=2, stale_s=60).id == late  # a newcomer goes before a third turn


def test_a_dead_workers_job_does_not_hold_the_accounts_share(users):
    import datetime as dt

    ann = users[0]
    first, second = _batch(ann), _batch(ann)
    jobs.claim_next("w1", max_running=1, stale_s=60)
    old = db.base.utcnow() - dt.timedelta(seconds=120)
    jobs.Job.update(heartbeat_at=old).where(jobs.Job.id == first).execute()
    assert jobs.claim_next("w2", max_running=1, stale_s=60).id == second


def test_parallel_claims_never_exceed_an_accounts_share(users, database):
    if isinstance(database, db.base.pw.SqliteDatabase):
        pytest.skip("SQLite serialises writers; the race is PostgreSQL's")
    ann = users[0]
    for _ in range(6):
        _batch(ann)
    claimed, barrier = [], threading.Barrier(6)

    def claim(k: int) -> None:
        with db.connection():
            barrier.wait()
            job = jobs.claim_next(f"w{k}", max_running=2, stale_s=60)
            if job is not None:
                claimed.append(job.id)

    threads = [threading.Thread(target=claim, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(claimed) == 2


def test_queue_limit_per_account(users):
    ann, ben, _ = users
    for _ in range(3):
        _batch(ann, max_active=3)
    with pytest.raises(jobs.TooManyJobs) as refused:
        _batch(ann, max_active=3)
    assert (refused.value.active, refused.value.limit) == (3, 3)
    assert len(videos.list_batches(ann)) == 3  # the refused batch was not stored
    _batch(ben, max_active=3)  # another account is not affected


@pytest.mark.parametrize("bad", [2**63, 2**64 + 5, -1, "x"])
def test_ids_that_cannot_be_ids_find_nothing(users, bad):
    assert jobs.get_job(bad) is None and videos.get_video(bad) is None and videos.get_batch(bad, users[0]) is None
