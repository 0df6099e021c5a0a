"""Issue 18 (findings 6 and 7 and the Low items on jobs), over real HTTP against run.py's app:
zip bombs and lying zips refused with a 4xx naming the limit and nothing stored; a fair share of
the job workers between accounts and a limit on queued jobs; videos whose timestamps or header
lie about their length or frame size refused with a clear message; the batch summary CSV
neutralises formulas; a cancelled batch's photos are removed and it cannot be retried."""
from __future__ import annotations

import csv
import fractions
import io
import struct
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

import db
from db import jobs, videos
from tests.helpers.app import ServerThread

from .test_api_videos import wait_done


@pytest.fixture
def database_url(tmp_path):
    """SQLite only (the default deployment): the queue's rules are tested on both databases in
    tests/db/test_fair_queue.py."""
    return str(tmp_path / "data" / "app.sqlite3")


@pytest.fixture
def limits():
    """Overrides of the job settings for one test (``@pytest.mark.parametrize`` or a test's own)."""
    return {}


@pytest.fixture
def config_overrides(limits) -> dict:
    """One job worker (the fair share is visible), plus the test's ``limits``."""
    return {"job_workers": 1, **limits}


@pytest.fixture
def server(config, app_settings, museum_settings):
    import run

    app = run.build_app(config, realtime=False, realtime_settings=app_settings, museum_settings=museum_settings)
    with ServerThread(app) as srv:
        srv.jobs = app.state.flask_app.extensions["jobs"]
        yield srv
    srv.jobs.shutdown(wait=True)
    db.database.obj.close()


class HeldBackend:
    """A job backend that runs nothing: jobs stay queued (a busy server, deterministically)."""

    name = "held"

    def __init__(self):
        self.sent = []

    def send(self, job_id: int) -> None:
        self.sent.append(job_id)

    def shutdown(self, wait: bool = True) -> None:
        pass


@pytest.fixture
def held(server):
    real, server.jobs.backend = server.jobs.backend, HeldBackend()
    yield server.jobs.backend
    server.jobs.backend = real


def noise_jpeg(size: int = 48, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    return cv2.imencode(".jpg", rng.integers(0, 255, (size, size, 3), dtype=np.uint8))[1].tobytes()


def zipped(members: dict[str, bytes], level: int = 6) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def stored_files(config) -> list[Path]:
    base = Path(config.data_dir) / "batches"
    return [p for p in base.rglob("*") if p.is_file()] if base.exists() else []


def post_batch(client, *files: tuple[str, bytes], **form):
    return client.post("/batches", data=form, files=[("photos", (n, d, "application/octet-stream")) for n, d in files])


def assert_nothing_stored(config, alice_id: int) -> None:
    assert stored_files(config) == []
    with db.connection():
        assert videos.list_batches(alice_id) == [] and jobs.active_jobs(alice_id) == 0


# ------------------------------------------------------------------------------------ zip bombs
@pytest.mark.parametrize("limits", [{"batch_max_mb": 1}])
def test_zip_bombs_and_lying_zips_are_refused_before_anything_is_stored(users, config):
    alice = users["alice"]
    alice_id = db.get_user_by_username("alice").id
    photo = noise_jpeg(300)
    cases = [
        # a member that is not an image: refused from its first bytes, before it is written
        ({"inside/fake.jpg": b"MZ" + b"\x00" * 5000, "ok.jpg": photo}, 415,
         "'inside/fake.jpg' in 'up.zip' is not a JPEG, PNG, WebP or BMP image"),
        # a zip bomb: a JPEG header and megabytes of zeros, a few KB compressed
        ({"bomb.jpg": b"\xff\xd8\xff\xe0" + b"\x00" * (3 * 2**20)}, 413, "'bomb.jpg' in 'up.zip' is compressed"),
        # members declaring more than BATCH_MAX_MB together: refused from the directory, nothing written
        ({f"p{i}.jpg": b"\xff\xd8\xff\xe0" + np.random.default_rng(i).bytes(400_000) for i in range(3)}, 413,
         "add up to more than 1 MB once unpacked (BATCH_MAX_MB)"),
        # one member over the photo limit
        ({"huge.jpg": b"\xff\xd8\xff\xe0" + np.random.default_rng(9).bytes(26 * 2**20)}, 413,
         "larger than the limit of 25 MB per photo"),
    ]
    for members, status, message in cases:
        r = post_batch(alice, ("up.zip", zipped(members, level=1)))
        assert (r.status_code, message in r.json()["detail"]) == (status, True), (message, r.text)
        assert "Traceback" not in r.text
        assert_nothing_stored(config, alice_id)
    # plain files past BATCH_MAX_MB: cut off while copying (the hard cap), nothing kept
    big = [(f"{i}.jpg", b"\xff\xd8\xff\xe0" + np.random.default_rng(i).bytes(400_000)) for i in range(3)]
    r = post_batch(alice, *big)
    assert r.status_code == 413 and "(BATCH_MAX_MB)" in r.json()["detail"]
    assert_nothing_stored(config, alice_id)


def lying_zip(photo: bytes) -> bytes:
    """A zip whose directory says the member is 100 bytes long while it holds more."""
    data = bytearray(zipped({"a.jpg": photo}))
    at = data.rindex(b"PK\x01\x02")  # the central directory entry: uncompressed size at offset 24
    data[at + 24:at + 28] = struct.pack("<I", 100)
    return bytes(data)


def test_a_zip_member_that_lies_about_its_size_is_a_clear_415_not_a_500(users, config):
    alice = users["alice"]
    r = post_batch(alice, ("liar.zip", lying_zip(noise_jpeg(300))), ("b.jpg", noise_jpeg()))
    assert r.status_code == 415, r.text
    assert r.json()["detail"].startswith("'a.jpg' in 'liar.zip' is damaged") and "nothing was stored" in r.text
    assert_nothing_stored(config, db.get_user_by_username("alice").id)


# --------------------------------------------------------------------------------- fair share
@pytest.mark.parametrize("limits", [{"job_queue_per_user": 40}])
def test_another_users_batch_is_not_held_behind_one_accounts_thirty(users, config):
    """30 one-photo batches from alice, then bob's: bob's job is claimed next (before: after all
    of alice's, FIFO)."""
    alice, bob = users["alice"], users["bob"]
    photo = noise_jpeg()
    alice_jobs = []
    for i in range(30):
        r = post_batch(alice, (f"a{i}.jpg", photo))
        assert r.status_code == 202, r.text
        alice_jobs.append(r.json()["job_id"])
    r = post_batch(bob, ("b.jpg", photo))
    bob_job = r.json()["job_id"]
    with db.connection():
        started_when_bob_came = sum(jobs.get_job(j).started_at is not None for j in alice_jobs)
    assert wait_done(bob, bob_job)["status"] == "done"
    with db.connection():
        bob_row = jobs.get_job(bob_job)
        ahead = sum(1 for j in alice_jobs if (s := jobs.get_job(j).started_at) and s < bob_row.started_at)
    waited = (bob_row.finished_at - bob_row.created_at).total_seconds()
    print(f"bob's 1-photo batch: {waited:.1f} s from upload to done; {ahead} of alice's 30 jobs started before it "
          f"({started_when_bob_came} had started when bob uploaded)")
    assert ahead <= started_when_bob_came + 1  # only what was already running (and a claim in flight)
    for j in alice_jobs:
        assert wait_done(alice, j)["status"] == "done"


@pytest.mark.parametrize("limits", [{"job_queue_per_user": 3}])
def test_jobs_queued_per_account_are_limited(users, config, held, clip_bytes):
    alice, bob = users["alice"], users["bob"]
    for i in range(3):
        assert post_batch(alice, (f"{i}.jpg", noise_jpeg())).status_code == 202
    for r in (post_batch(alice, ("late.jpg", noise_jpeg())),
              alice.post("/videos", files={"video": ("v.mp4", clip_bytes, "video/mp4")})):
        assert r.status_code == 429 and "the limit per account (JOB_QUEUE_PER_USER) is 3" in r.json()["detail"]
    assert post_batch(bob, ("b.jpg", noise_jpeg())).status_code == 202  # another account is not affected
    with db.connection():
        assert jobs.active_jobs(db.get_user_by_username("alice").id) == 3


# ----------------------------------------------------------------------- cancel, retry, CSV
def test_a_cancelled_batch_loses_its_photos_and_cannot_be_retried(users, config, held):
    alice = users["alice"]
    r = post_batch(alice, ("a.jpg", noise_jpeg()), ("b.jpg", noise_jpeg(seed=1)))
    job_id, batch_id = r.json()["job_id"], r.json()["batch_id"]
    with db.connection():
        folder = Path(config.data_dir) / videos.get_batch(batch_id).folder
    assert len(list((folder / "uploads").iterdir())) == 2  # queued: its photos wait
    assert alice.post(f"/jobs/{job_id}/cancel").json()["status"] == "cancelled"
    assert not (folder / "uploads").exists()
    r = alice.post(f"/jobs/{job_id}/retry")
    assert r.status_code == 409 and "upload them again" in r.json()["detail"]


def test_summary_csv_neutralises_formulas_in_photo_names(users):
    alice = users["alice"]
    evil = "=HYPERLINK(A1;B1).jpg"  # (httpx percent-encodes quotes in file names)
    r = post_batch(alice, (evil, noise_jpeg()), ("+1.jpg", noise_jpeg(seed=2)), ("fine.jpg", noise_jpeg(seed=3)))
    assert wait_done(alice, r.json()["job_id"])["status"] == "done"
    rows = list(csv.reader(io.StringIO(alice.get(f"/batches/{r.json()['batch_id']}/summary.csv").text)))[1:]
    assert sorted(row[0] for row in rows) == ["'+1.jpg", "'" + evil, "fine.jpg"]


# --------------------------------------------------------------------------- lying videos
def mjpeg_video(path: Path, fmt: str, frames: int, header: tuple[int, int], real: tuple[int, int] | None = None,
                constant_time: bool = False) -> bytes:
    """MJPEG frames muxed as they are: the first three ``header``-sized (what FFmpeg probes),
    the rest ``real``-sized; every timestamp 0 with ``constant_time``."""
    small = cv2.imencode(".jpg", np.full((header[1], header[0], 3), 128, np.uint8))[1].tobytes()
    big = cv2.imencode(".jpg", np.full(((real or header)[1], (real or header)[0], 3), 90, np.uint8))[1].tobytes()
    import av

    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream("mjpeg", rate=30)
        stream.width, stream.height, stream.pix_fmt = header[0], header[1], "yuvj420p"
        stream.time_base = fractions.Fraction(1, 30)
        for i in range(frames):
            packet = av.Packet(small if i < 3 else big)
            packet.stream, packet.time_base, packet.is_keyframe = stream, stream.time_base, True
            packet.pts = packet.dts = 0 if constant_time else i
            out.mux(packet)
    return path.read_bytes()


@pytest.mark.parametrize("limits", [{"video_max_seconds": 5}])
def test_constant_timestamps_do_not_pass_the_duration_limit(users, tmp_path):
    alice = users["alice"]
    # 300 frames (10 s at 30 frames/s), every one at t = 0: the frame count says what the clock does not
    mkv = mjpeg_video(tmp_path / "still.mkv", "matroska", 300, (64, 64), constant_time=True)
    r = alice.post("/videos", data={"preset": "close"}, files={"video": ("still.mkv", mkv, "video/x-matroska")})
    assert r.status_code == 202, r.text  # MKV has no frame count in its header: found while decoding
    job = wait_done(alice, r.json()["job_id"])
    assert job["status"] == "failed"
    assert "has more than 150 frames, the limit for 5 s at 30 frames/s (whatever its timestamps say)" in job["error"]
    # an MP4 states its frame count: refused at upload, nothing stored
    mp4 = mjpeg_video(tmp_path / "still.mp4", "mp4", 400, (64, 64), constant_time=True)
    r = alice.post("/videos", files={"video": ("still.mp4", mp4, "video/mp4")})
    assert r.status_code == 413 and "has more than 300 frames" in r.json()["detail"]


def test_frames_larger_than_the_header_says_are_refused_before_they_are_decoded(users, tmp_path):
    alice = users["alice"]
    # the header (and the first frames) say 64x64; the rest are 4000x2500 = 10 MP (limit 3840x2160)
    mkv = mjpeg_video(tmp_path / "liar.mkv", "matroska", 8, (64, 64), real=(4000, 2500))
    r = alice.post("/videos", data={"preset": "close"}, files={"video": ("liar.mkv", mkv, "video/x-matroska")})
    assert r.status_code == 202, r.text
    job = wait_done(alice, r.json()["job_id"])
    assert job["status"] == "failed" and "internal error" not in job["error"]
    assert "frame 3 could not be decoded within the limit of 8,294,400 pixels per frame" in job["error"]
    assert "its header says 64x64" in job["error"]


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    from realtime.research.video_synth import one_face

    return one_face(n_frames=10, first=2, last=8).write(tmp_path_factory.mktemp("v") / "c.mp4").read_bytes()
