"""The embedded backend (the server's own process pool) against SQLite and PostgreSQL: a video
job end to end, a failed job with its reason, cancel, retry, and a server killed mid-job."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import db
from db import jobs, videos
from portal.jobs.service import JobService
from portal.jobs.uploads import UploadError, store_batch
from portal.jobs.worker import dead_local_workers
from realtime.video_records import load_result

from .conftest import add_video, wait_for

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def service(settings):
    svc = JobService(settings)
    yield svc
    svc.shutdown(wait=False)


def test_video_job_end_to_end_and_a_corrupt_upload_fails_with_its_reason(service, settings, owner, short_video):
    video, job = add_video(settings, owner, short_video)
    service.submit(job.id)
    done = wait_for(job.id)
    assert done.status == "done", done.error
    assert done.progress == 1.0 and done.attempts == 1 and done.worker.startswith("embedded@")
    with db.connection():
        v = videos.get_video(video.id)
    assert (v.frames, v.frames_analysed, v.tracks, v.width) == (30, 30, 1, 640)
    folder = settings.data_dir / v.folder
    assert sorted(p.name for p in folder.iterdir()) == ["annotated.mp4", "result.json", "timeline.csv"]
    assert load_result(settings.data_dir / v.result_path)["tracks"][0]["first_frame"] == 5

    # a file that passes the header check but whose frames are gone fails as a job, with a reason
    data = short_video.read_bytes()
    bad, bad_job = add_video(settings, owner, short_video, name="cut.mp4")
    (settings.data_dir / bad.original_path).write_bytes(data[: len(data) * 2 // 3])
    service.submit(bad_job.id)
    failed = wait_for(bad_job.id)
    assert failed.status == "failed"
    assert "truncated or corrupt" in failed.error and "Traceback" not in failed.error
    assert sorted(p.name for p in (settings.data_dir / bad.folder).iterdir()) == ["original.mp4"]  # kept for a retry
    assert service.retry(owner, bad_job.id)
    assert wait_for(bad_job.id).attempts == 2


def test_upload_checks_before_anything_is_stored(settings, owner):
    from dataclasses import replace

    from portal.jobs.uploads import store_video
    from realtime.video_io import VideoLimits

    with pytest.raises(UploadError, match="'notes.txt' is not a video we accept"):
        store_video(settings, owner, io.BytesIO(b"hello"), "notes.txt")
    with pytest.raises(UploadError, match="'holiday.mp4' is not a video FFmpeg can read"):
        store_video(settings, owner, io.BytesIO(b"\x00" * 5000), "holiday.mp4")
    with pytest.raises(UploadError, match="'big.mp4' is larger than the limit of 0 MB"):
        store_video(replace(settings, video_limits=VideoLimits(max_bytes=1000)), owner, io.BytesIO(b"\x00" * 5000),
                    "big.mp4")
    with pytest.raises(UploadError, match="unknown preset 'tv'"):
        store_video(settings, owner, io.BytesIO(b"x"), "a.mp4", preset="tv")
    assert list((settings.data_dir / "videos" / str(owner)).iterdir()) == []
    with db.connection():
        assert videos.list_videos(owner) == [] and jobs.queued_job_ids() == []


def test_cancel_a_running_job_then_retry(service, settings, owner, long_video):
    video, job = add_video(settings, owner, long_video)
    service.submit(job.id)
    wait_for(job.id, statuses=("running",), min_progress=0.02)
    with db.connection():
        assert not service.cancel(owner + 1, job.id)  # someone else's job: refused
        assert service.cancel(owner, job.id)
    cancelled = wait_for(job.id)
    assert cancelled.status == "cancelled" and cancelled.progress < 1.0
    folder = settings.data_dir / video.folder
    time.sleep(1.5)  # the worker notices within half a second and removes its outputs
    assert sorted(p.name for p in folder.iterdir()) == ["original.mp4"]
    with db.connection():
        assert service.retry(owner, job.id)
    assert wait_for(job.id).status == "done"


SERVER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from portal.jobs.service import JobService
    from portal.jobs.settings import JobSettings
    svc = JobService(JobSettings(data_dir=Path(sys.argv[1]), database_url=sys.argv[2], workers=1))
    svc.submit(int(sys.argv[3]))
    time.sleep(600)
""")


def test_server_killed_mid_job_is_resumed_at_restart(settings, owner, long_video):
    video, job = add_video(settings, owner, long_video)
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(settings.data_dir), settings.database_url, str(job.id)],
                            cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        running = wait_for(job.id, statuses=("running",), min_progress=0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the server and its pool, mid-job
        proc.wait()
    with db.connection():
        assert jobs.get_job(job.id).status == "running"  # what a crash leaves behind
    deadline = time.monotonic() + 20  # SIGKILL is asynchronous: wait until the OS has ended the pool worker
    while not dead_local_workers([running.worker]) and time.monotonic() < deadline:
        time.sleep(0.1)
    svc = JobService(settings)
    try:
        assert job.id in svc.start()  # the dead worker's job is re-queued and sent again
        done = wait_for(job.id)
    finally:
        svc.shutdown(wait=False)
    assert done.status == "done" and done.attempts == 2 and done.worker != running.worker
    with db.connection():
        assert videos.get_video(video.id).frames == 300


def test_photo_batch_one_computation_per_photo(service, settings, owner):
    import zipfile

    import cv2

    from realtime.research.scenes import real_photo, shrunk_group

    def png(rgb):
        return cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes()

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("group/three.png", png(shrunk_group([50, 60, 70]).rgb))
        zf.writestr("readme.txt", "ignored")
    buf.seek(0)
    files = [("astronaut.png", io.BytesIO(png(real_photo("astronaut")))), ("coffee.png", io.BytesIO(png(real_photo("coffee")))),
             ("broken.jpg", io.BytesIO(b"\xff\xd8\xff\xe0 not really")), ("more.zip", buf)]
    batch, job = store_batch(settings, owner, files, title="Gallery")
    assert batch.photos == 4
    service.submit(job.id)
    done = wait_for(job.id)
    assert done.status == "done", done.error
    assert done.result == {"batch_id": batch.id, "photos": 4, "faces": 4, "errors": 1}
    with db.connection():
        items = videos.batch_items(batch.id)
        assert [i.name for i in items] == ["astronaut.png", "coffee.png", "three.png"]
        assert db.count_computations(owner) == 3
        summary = settings.data_dir / videos.get_batch(batch.id).summary_csv_path
    lines = summary.read_text().splitlines()
    assert lines[0].startswith("photo,status,face,x,y,w,h,emotion,uncertain,confidence,angry")
    statuses = [line.split(",")[:2] for line in lines[1:]]
    assert statuses.count(["astronaut.png", "ok"]) == 1 and ["coffee.png", "no face found"] in statuses
    assert any(s[0] == "broken.jpg" and s[1].startswith("error: ") for s in statuses)
    assert statuses.count(["three.png", "ok"]) == 3
    with db.connection():
        folder, paths = videos.delete_batch(owner, batch.id)
        assert db.count_computations(owner) == 0
    assert all((settings.data_dir / p).exists() for p in paths)  # the caller removes them with the folder
