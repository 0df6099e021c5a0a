"""Jobs, videos and batches (migration 4) on SQLite and PostgreSQL: the job state machine,
claiming, cancellation seen by the worker, retry, recovery of abandoned jobs, deletion."""
from __future__ import annotations

import datetime as dt

import pytest

import db
from db import jobs, videos
from db.base import utcnow


@pytest.fixture
def owner(database):
    return db.create_user("vid", "vid@example.org", "h").id


def _video(owner_id, **kw):
    return videos.create_video_job(owner_id, folder="videos/1/a", original_path="videos/1/a/original.mp4",
                                   filename="clip.mp4", title="t", **kw)


def test_schema_version_4_tables(database):
    assert db.current_version(database) >= 4
    assert {"jobs", "videos", "batches", "batch_items"} <= set(database.get_tables())


def test_video_and_job_created_together(owner):
    video, job = _video(owner, sample_fps=5.0, preset="room")
    assert job.status == "queued" and job.params == {"video_id": video.id} and job.kind == "video"
    assert videos.get_video(video.id, owner).job_id == job.id
    assert videos.get_video(video.id, owner + 1) is None  # someone else's: not found
    assert jobs.get_job(job.id, owner + 1) is None
    with pytest.raises(ValueError, match="job kind must be one of"):
        jobs.create_job(owner, "movie", {})


def test_only_one_worker_claims_a_job(owner):
    _, job = _video(owner)
    assert jobs.claim_job(job.id, "w1", stale_s=60).worker == "w1"
    assert jobs.claim_job(job.id, "w2", stale_s=60) is None
    got = jobs.get_job(job.id)
    assert (got.status, got.attempts, got.worker) == ("running", 1, "w1") and got.started_at is not None


def test_cancel_is_seen_by_the_worker_and_retry_queues_again(owner):
    _, job = _video(owner)
    jobs.claim_job(job.id, "w1", stale_s=60)
    assert jobs.report_progress(job.id, "w1", 0.25)
    assert jobs.get_job(job.id).progress == 0.25
    assert jobs.cancel_job(job.id)
    assert not jobs.report_progress(job.id, "w1", 0.5)  # the worker must stop
    assert not jobs.finish_job(job.id, "w1", {"x": 1})  # and cannot finish a cancelled job
    assert jobs.get_job(job.id).status == "cancelled"
    assert not jobs.cancel_job(job.id)
    assert jobs.retry_job(job.id)
    got = jobs.get_job(job.id)
    assert (got.status, got.progress, got.worker, got.error) == ("queued", 0.0, None, None)
    assert not jobs.retry_job(job.id)  # queued: nothing to retry
    assert jobs.claim_job(job.id, "w2", stale_s=60).attempts == 2


def test_failure_keeps_its_reason_and_done_keeps_result(owner):
    _, job = _video(owner)
    jobs.claim_job(job.id, "w1", stale_s=60)
    assert jobs.fail_job(job.id, "w1", "file 'x.mp4' is corrupt")
    got = jobs.get_job(job.id)
    assert got.status == "failed" and got.error == "file 'x.mp4' is corrupt" and got.finished_at
    assert jobs.retry_job(job.id)
    jobs.claim_job(job.id, "w1", stale_s=60)
    assert jobs.finish_job(job.id, "w1", {"tracks": 2})
    got = jobs.get_job(job.id)
    assert (got.status, got.progress, got.result) == ("done", 1.0, {"tracks": 2})
    assert jobs.job_to_dict(got)["video_id"] is not None


def test_abandoned_running_jobs_are_requeued(owner):
    _, fresh = _video(owner)
    _, silent = _video(owner)
    _, dead = _video(owner)
    for j, w in ((fresh, "a"), (silent, "b"), (dead, "c")):
        jobs.claim_job(j.id, w, stale_s=60)
    jobs.Job.update(heartbeat_at=utcnow() - dt.timedelta(seconds=120)).where(jobs.Job.id == silent.id).execute()
    assert sorted(jobs.requeue_abandoned(stale_s=60, dead_workers=["c"])) == sorted([silent.id, dead.id])
    assert [jobs.get_job(j.id).status for j in (fresh, silent, dead)] == ["running", "queued", "queued"]
    assert jobs.queued_job_ids() == sorted([silent.id, dead.id])
    # a stale running job can also be claimed directly (a redelivered task after its worker died)
    jobs.Job.update(heartbeat_at=utcnow() - dt.timedelta(seconds=120)).where(jobs.Job.id == fresh.id).execute()
    assert jobs.claim_job(fresh.id, "d", stale_s=60).worker == "d"
    assert not jobs.report_progress(fresh.id, "a", 0.5)  # the old worker has lost it


def test_results_and_delete(owner):
    video, job = _video(owner)
    videos.set_video_result(video.id, duration_s=2.0, fps=30.0, frames=60, frames_analysed=60, tracks=1,
                            dominant_emotion="happy", result_path="videos/1/a/result.json")
    with pytest.raises(ValueError, match="cannot set"):
        videos.set_video_result(video.id, owner=3)
    assert videos.list_videos(owner)[0].frames == 60
    assert videos.delete_video(owner + 1, video.id) is None
    assert videos.delete_video(owner, video.id) == "videos/1/a"
    assert videos.get_video(video.id) is None and jobs.get_job(job.id) is None


def test_batch_items_are_computations_deleted_with_the_batch(owner):
    batch, job = videos.create_batch_job(owner, folder="batches/1/b", photos=2, title="b")
    comp = db.record_computation(owner_id=owner, kind="upload", title="b", original_path="batches/1/b/p1.png",
                                 annotated_path="batches/1/b/p1.annotated.png", result={"faces": []},
                                 faces_found=0, dominant_emotion=None, timings={}, model_version="m")
    videos.add_batch_item(batch.id, comp.id, "p1.jpg")
    assert [i.name for i in videos.batch_items(batch.id)] == ["p1.jpg"]
    folder, paths = videos.delete_batch(owner, batch.id)
    assert folder == "batches/1/b" and paths == ["batches/1/b/p1.png", "batches/1/b/p1.annotated.png"]
    assert db.get_computation(owner, comp.id) is None and jobs.get_job(job.id) is None


def test_deleting_the_user_deletes_jobs_and_videos(owner):
    video, job = _video(owner)
    db.delete_user(owner)
    assert videos.get_video(video.id) is None and jobs.get_job(job.id) is None
