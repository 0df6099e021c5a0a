"""The Videos pages (issue 12), the way a browser uses them: upload with the form, poll the
job's JSON, open the result (video, chart, tracks), download, delete; other users get 404."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
import db
from db import videos
from tests.helpers.web import csrf_token, logout, post, register, wait_job as wait_done

VIDEO_FILES = ("annotated.mp4", "result.json", "timeline.csv")


@pytest.fixture(autouse=True)
def _stop_pool(app):
    """Each test's app has its own job pool: stop its worker processes after the test."""
    yield
    app.extensions["jobs"].shutdown(wait=True)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> bytes:
    from realtime.research.video_synth import one_face

    return one_face(n_frames=24, first=4, last=19).write(tmp_path_factory.mktemp("clip") / "c.mp4").read_bytes()


def upload(client, data: bytes, name: str = "visit.mp4", **fields):
    form = {"title": "Gallery visit", "exhibit": "Room 3", "notes": "morning", "consent": "y", "preset": "close",
            "sample_fps": "", **fields, "video": (io.BytesIO(data), name),
            "csrf_token": csrf_token(client, "/videos")}
    return client.post("/videos", data=form, content_type="multipart/form-data")


def test_upload_progress_result_downloads_and_delete(client, alice, config, clip):
    page = client.get("/videos")
    assert page.status_code == 200 and 'name="video"' in page.text and 'name="photos"' in page.text
    resp = upload(client, clip)
    assert resp.status_code == 302
    video_url = resp.headers["Location"]
    with db.connection():
        video = videos.list_videos(alice.id)[0]
    assert video_url.endswith(f"/videos/{video.id}")
    first = client.get(video_url).text
    assert 'id="job-progress"' in first or "<video" in first  # progress bar while it runs
    status = wait_done(client, video.job_id)
    assert status["status"] == "done" and status["progress"] == 1.0 and status["error"] is None

    page = client.get(video_url).text
    assert "<video" in page and f"/videos/{video.id}/annotated.mp4" in page
    assert 'id="tracks"' in page and "#1" in page and "Room 3" in page
    mp4 = client.get(f"/videos/{video.id}/annotated.mp4")
    assert mp4.status_code == 200 and mp4.mimetype == "video/mp4" and mp4.data[4:8] == b"ftyp"
    ranged = client.get(f"/videos/{video.id}/annotated.mp4", headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.data) == 100  # browsers seek with ranges
    csv_text = client.get(f"/videos/{video.id}/timeline.csv").data.decode()
    assert csv_text.splitlines()[0].startswith("t,frame,track_id,x,y,w,h,emotion,uncertain,angry")
    assert len(csv_text.splitlines()) == 1 + 16
    doc = client.get(f"/videos/{video.id}/result.json").get_json()
    assert doc["video"]["frames"] == 24 and doc["tracks"][0]["first_frame"] == 4
    svg = client.get(f"/videos/{video.id}/timeline.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    pdf = client.get(f"/videos/{video.id}/summary.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "Gallery visit" in client.get("/history").text  # listed in History

    folder = Path(config.data_dir) / video.folder
    assert {p.name for p in folder.iterdir()} >= set(VIDEO_FILES)
    assert not (folder / "original.mp4").exists()  # the upload is not kept after the analysis
    resp = post(client, f"/videos/{video.id}/delete", {"confirm": "yes"}, page=video_url)
    assert resp.status_code == 302 and not folder.exists()
    assert client.get(video_url).status_code == 404
    assert client.get(f"/videos/jobs/{video.job_id}.json").status_code == 404


def test_the_detector_is_chosen_automatically_and_the_page_says_why(client, alice, clip):
    """No preset chosen (the form's default): the job measures the faces and the page names the
    detector used and why (issue 20); the upload form offers Automatic first."""
    assert '<option value="auto">Automatic' in client.get("/videos").text.split('id="preset"')[1].split("</select>")[0][:200]
    resp = upload(client, clip, preset="")
    with db.connection():
        video = videos.list_videos(alice.id)[0]
    assert video.preset == "auto"
    assert wait_done(client, video.job_id)["status"] == "done"
    page = client.get(resp.headers["Location"]).text
    choice = page.split('id="detector-choice">')[1].split("</dd>")[0]
    assert "Standard" in choice and "chosen automatically" in choice and "at least 12%" in choice
    doc = client.get(f"/videos/{video.id}/result.json").get_json()
    assert doc["detector_choice"]["requested"] == "auto" and doc["detector_choice"]["preset"] == "default"


def test_other_users_get_404(client, alice, config, clip):
    from portal.jobs.settings import JobSettings
    from portal.jobs.uploads import store_video

    video, job = store_video(JobSettings.from_config(config), alice.id, io.BytesIO(clip), "a.mp4", title="private")
    logout(client)
    assert register(client, "mallory").status_code == 302  # registered and logged in
    for url in (f"/videos/{video.id}", f"/videos/jobs/{job.id}.json", f"/videos/{video.id}/annotated.mp4",
                f"/videos/{video.id}/timeline.csv", f"/videos/{video.id}/result.json",
                f"/videos/{video.id}/timeline.svg", f"/videos/{video.id}/summary.pdf"):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/videos")
    for url in (f"/videos/{video.id}/delete", f"/videos/jobs/{job.id}/cancel", f"/videos/jobs/{job.id}/retry"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    assert "private" not in client.get("/videos").text
    with db.connection():
        assert videos.get_video(video.id) is not None
    logout(client)
    assert client.get(f"/videos/{video.id}").status_code == 302  # anonymous: to the login page


def test_bad_uploads_are_refused_with_a_reason_and_nothing_stored(client, alice, config):
    resp = upload(client, b"\x00\x01 definitely not a video" * 100, name="holiday.mov")
    assert resp.status_code == 302
    page = client.get("/videos").text
    assert "&#39;holiday.mov&#39; is not a video FFmpeg can read" in page
    upload(client, b"hello", name="notes.txt")
    assert "&#39;notes.txt&#39; is not a video we accept" in client.get("/videos").text
    upload(client, b"x", sample_fps="fast")
    assert "frames analysed per second must be a number" in client.get("/videos").text
    with db.connection():
        assert videos.list_videos(alice.id) == []
    assert not any((Path(config.data_dir) / "videos").rglob("*.*"))


def test_photo_batch_through_the_form(client, alice, config):
    import cv2

    from realtime.research.scenes import real_photo

    def png(name):
        return io.BytesIO(cv2.imencode(".png", cv2.cvtColor(real_photo(name), cv2.COLOR_RGB2BGR))[1].tobytes())

    form = {"title": "Hall", "photos": [(png("astronaut"), "a.png"), (png("camera"), "b.png")],
            "csrf_token": csrf_token(client, "/videos")}
    resp = client.post("/videos/batches", data=form, content_type="multipart/form-data")
    assert resp.status_code == 302
    with db.connection():
        batch = videos.Batch.get(videos.Batch.owner == alice.id)
    assert wait_done(client, batch.job_id)["status"] == "done"
    page = client.get(f"/videos/batches/{batch.id}").text
    assert "a.png" in page and "b.png" in page and "summary.csv" in page
    summary = client.get(f"/videos/batches/{batch.id}/summary.csv").data.decode().splitlines()
    assert [row.split(",")[:2] for row in summary[1:]] == [["a.png", "ok"], ["b.png", "ok"]]
    history = client.get("/history").text
    assert "Hall / a.png" in history and "Hall / b.png" in history
    resp = post(client, f"/videos/batches/{batch.id}/delete", {"confirm": "yes"}, page=f"/videos/batches/{batch.id}")
    assert resp.status_code == 302 and not (Path(config.data_dir) / batch.folder).exists()
    with db.connection():
        assert db.count_computations(alice.id) == 0


def test_exhibit_is_chosen_from_the_users_exhibits_and_batches_feed_it(client, alice, config, clip):
    import cv2

    from db import museum, observations
    from realtime.research.scenes import real_photo

    with db.connection():
        exhibit = museum.create_exhibit(alice.id, museum.create_organisation(alice.id, "Louvre").id, "Mona Lisa")
        mallory = db.create_user("mallory2", "m2@example.org", "h")
        foreign = museum.create_exhibit(mallory.id, museum.create_organisation(mallory.id, "Other").id,
                                            "Secret room")
    page = client.get("/videos").text
    assert f'<option value="{exhibit.id}">Louvre · Mona Lisa</option>' in page and "Secret room" not in page

    upload(client, clip, exhibit_id=str(foreign.id))  # another organisation's exhibit: refused, nothing stored
    assert "that exhibit is not available" in client.get("/videos").text
    with db.connection():
        assert videos.list_videos(alice.id) == []

    def png(name):
        return io.BytesIO(cv2.imencode(".png", cv2.cvtColor(real_photo(name), cv2.COLOR_RGB2BGR))[1].tobytes())

    form = {"title": "Hall", "exhibit_id": str(exhibit.id), "photos": [(png("astronaut"), "a.png"),
                                                                        (png("camera"), "b.png")],
            "csrf_token": csrf_token(client, "/videos")}
    assert client.post("/videos/batches", data=form, content_type="multipart/form-data").status_code == 302
    with db.connection():
        batch = videos.Batch.get(videos.Batch.owner == alice.id)
    assert (batch.exhibit_id, batch.exhibit) == (exhibit.id, "Mona Lisa")
    assert wait_done(client, batch.job_id)["status"] == "done"
    summary = client.get(f"/videos/batches/{batch.id}/summary.csv").data.decode().splitlines()
    faces = len(summary) - 1
    with db.connection():
        rows = observations.observation_rows(exhibit.id)
    assert faces >= 2 and len(rows) == faces and {r["source"] for r in rows} == {"upload"}
    post(client, f"/videos/batches/{batch.id}/delete", {"confirm": "yes"}, page=f"/videos/batches/{batch.id}")
    with db.connection():
        assert observations.observation_rows(exhibit.id) == []  # the photos' faces go with the batch


def test_video_download_names_keep_accents():
    """One slug for computations and videos: 'Café' stays 'café' (send_file adds the ASCII fallback)."""
    from datetime import datetime
    from types import SimpleNamespace

    from portal.web.videos import download_name
    video = SimpleNamespace(id=4, title="Café Ünter", created_at=datetime(2025, 1, 2, 3, 4))
    assert download_name(video, "mp4") == "video-4-café-ünter-20250102-0304.mp4"
    assert download_name(SimpleNamespace(id=5, title="", created_at=video.created_at), "csv").startswith("video-5-video-")


def test_deleting_a_video_or_batch_asks_for_confirmation(client, alice, config):
    """A single POST shows what will go and deletes nothing; the confirmed POST deletes."""
    folders = []
    with db.connection():
        for name in (f"videos/{alice.id}/v", f"batches/{alice.id}/b"):
            (Path(config.data_dir) / name).mkdir(parents=True)
            folders.append(Path(config.data_dir) / name)
        video = videos.Video.create(owner=alice.id, folder=f"videos/{alice.id}/v", title="Opening night")
        batch = videos.Batch.create(owner=alice.id, folder=f"batches/{alice.id}/b", title="Hall", photos=3)
    for url, words in ((f"/videos/{video.id}/delete", "Delete the video “Opening night”?"),
                       (f"/videos/batches/{batch.id}/delete", "Delete the batch “Hall”?")):
        resp = post(client, url, page="/videos")
        assert resp.status_code == 200 and words in resp.text and 'name="confirm" value="yes"' in resp.text
    with db.connection():
        assert videos.get_video(video.id) and videos.get_batch(batch.id)
    assert all(f.exists() for f in folders)
    for url in (f"/videos/{video.id}/delete", f"/videos/batches/{batch.id}/delete"):
        assert post(client, url, {"confirm": "yes"}, page="/videos").status_code == 302
    with db.connection():
        assert videos.get_video(video.id) is None and videos.get_batch(batch.id) is None
    assert not any(f.exists() for f in folders)
