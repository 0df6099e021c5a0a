"""Issue 18, finding 4: deleting an account leaves nothing behind.  Over real HTTP against
run.py's server, the way a browser does it: alice logs in, uploads a video and a photo batch
with the forms, waits for both jobs, analyses a photo as the upload tab does (Gradio's cache holds the
upload and a copy of the result), then deletes her account with the form (password, CSRF token).  No
file of hers is left under DATA_DIR (uploads, downloads, videos, batches, Gradio's temp dir) and no row
in the database; the next user, who gets her id again, finds nothing of hers.  At start-up,
video/batch folders of users that no longer exist are removed."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx
import pytest
import db
from db import videos
from tests.helpers import PASSWORD
from tests.helpers.live_server import live_server, portal_config
from tests.helpers.web import csrf_token, login, post, register, wait_job

pytestmark = [pytest.mark.security, pytest.mark.slow, pytest.mark.timeout(300)]
USER_DATA = ("uploads", "downloads", "videos", "batches", "gradio")
OWNER_COLUMNS = ("owner_id", "user_id", "created_by_id")


def user_files(data_dir: Path) -> list[Path]:
    return [p for kind in USER_DATA if (data_dir / kind).is_dir() for p in (data_dir / kind).rglob("*")]


def rows_of(user_id: int) -> dict[str, int]:
    """Rows of any table that point at ``user_id`` (by an owner/user column), per table."""
    found = {}
    with db.connection():
        for table in db.database.get_tables():
            columns = {c.name for c in db.database.get_columns(table)} & set(OWNER_COLUMNS)
            for column in columns:
                n = db.database.execute_sql(f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = ?',
                                            (user_id,)).fetchone()[0]
                if n:
                    found[f"{table}.{column}"] = n
    return found


def png(name: str) -> bytes:
    import cv2

    from realtime.research.scenes import real_photo

    return cv2.imencode(".png", cv2.cvtColor(real_photo(name), cv2.COLOR_RGB2BGR))[1].tobytes()


def flashes(web: httpx.Client) -> list[str]:
    """The messages the Videos page shows (why an upload was refused)."""
    return re.findall(r'<p class="flash[^"]*">(.*?)</p>', web.get("/videos").text, re.S)


def upload_video_and_batch(web: httpx.Client, clip: bytes, user_id: int) -> tuple[videos.Video, videos.Batch]:
    r = web.post("/videos", data={"title": "Gallery", "preset": "close", "csrf_token": csrf_token(web, "/videos")},
                 files={"video": ("visit.mp4", clip, "video/mp4")})
    assert r.status_code == 302 and "/videos/" in r.headers["location"], flashes(web)
    r = web.post("/videos/batches", data={"title": "Hall", "csrf_token": csrf_token(web, "/videos")},
                 files=[("photos", ("a.png", png("astronaut"), "image/png")),
                        ("photos", ("b.png", png("camera"), "image/png"))])
    assert r.status_code == 302 and "/videos/batches/" in r.headers["location"], flashes(web)
    with db.connection():
        video = videos.Video.get(videos.Video.owner == user_id)
        batch = videos.Batch.get(videos.Batch.owner == user_id)
    for job_id in (video.job_id, batch.job_id):
        assert wait_job(web, job_id)["status"] == "done"
    return video, batch


def analyse_photo_as_the_upload_tab(data_dir: Path, user_id: int, model_path: str) -> Path:
    """The upload tab's path: Gradio caches the upload, the service analyses and records it (and removes
    the upload), Gradio keeps a copy of the result image it shows.  Returns that copy."""
    import shutil

    from portal.analyses.service import Analyses
    from portal.analyses.settings import AnalysisSettings
    from portal.analyses.storage import gradio_cache_dir
    from portal.gradio_app.events import run_upload

    cache = gradio_cache_dir(data_dir)
    upload = cache / "f1" / "photo.png"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(png("astronaut"))
    ctx = Analyses(data_dir=data_dir, settings=AnalysisSettings(model_path=model_path, warm_up=False),
                   upload_dir=cache)
    out = run_upload(ctx, user_id, upload, "Portrait")
    shown = cache / "f2" / out.image_path.name
    shown.parent.mkdir(parents=True)
    shutil.copyfile(out.image_path, shown)
    assert not upload.exists() and shown.is_file()
    return shown


def test_deleting_the_account_leaves_no_file_and_no_row(tmp_path, model_path):
    from realtime.research.video_synth import one_face

    clip = one_face(n_frames=24, first=4, last=19).write(tmp_path / "clip.mp4").read_bytes()
    config = portal_config(tmp_path)
    data_dir = Path(config.data_dir)
    with live_server(config) as (url, _app):
        with httpx.Client(base_url=url, timeout=30) as web:
            assert register(web, "alice").status_code == 302
        with httpx.Client(base_url=url, timeout=30) as web:  # a browser that logs in
            assert login(web, "alice").status_code == 302
            with db.connection():
                alice = db.get_user_by_username("alice").id
            video, batch = upload_video_and_batch(web, clip, alice)
            shown = analyse_photo_as_the_upload_tab(data_dir, alice, model_path)
            assert web.get(f"/history/{_first_computation(alice)}/pdf").status_code == 200  # a download made
            assert (data_dir / video.folder / "annotated.mp4").is_file() and (data_dir / batch.folder).is_dir()
            assert rows_of(alice) and user_files(data_dir)

            r = post(web, "/account/delete", {"password": PASSWORD, "confirm": "y"})
            assert r.status_code == 302 and "Your account and all its data have been deleted" in web.get("/").text
        assert user_files(data_dir) == [] and not shown.exists()
        assert rows_of(alice) == {}
        with db.connection():
            assert [m.select().count() for m in (videos.Video, videos.Batch, videos.BatchItem, db.Computation)] == [0] * 4
        with httpx.Client(base_url=url, timeout=30) as web:  # the next user gets alice's id again
            assert register(web, "bob").status_code == 302
            with db.connection():
                assert db.get_user_by_username("bob").id == alice
            page = web.get("/videos").text
            assert "Gallery" not in page and "Hall" not in page
        assert not (data_dir / "videos" / str(alice)).exists() and not (data_dir / "batches" / str(alice)).exists()


def _first_computation(user_id: int) -> int:
    with db.connection():
        return db.computation_ids(user_id)[0]


def test_start_up_removes_video_and_batch_folders_of_deleted_users(tmp_path):
    from portal.web.factory import create_app

    config = portal_config(tmp_path)
    create_app(config).extensions["jobs"].shutdown(wait=True)
    with db.connection():
        ann = db.create_user("ann", "ann@example.org", "h").id
    data_dir = Path(config.data_dir)
    gone = [data_dir / kind / "987" / "20260101-000000-abcdef" for kind in ("videos", "batches")]
    young = data_dir / "videos" / "988" / "20260101-000000-fedcba"  # another process may be creating user 988
    kept = data_dir / "videos" / str(ann) / "20260101-000000-012345"  # ann exists
    old = time.time() - 3600
    for folder in (*gone, young, kept):
        folder.mkdir(parents=True)
        (folder / "annotated.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 faces")
        if folder is not young:
            for path in (folder / "annotated.mp4", folder, folder.parent):
                os.utime(path, (old, old))
    db.database.obj.close()
    create_app(config).extensions["jobs"].shutdown(wait=True)  # the restart
    assert not any(f.parent.exists() for f in gone)
    assert young.is_dir() and kept.is_dir()
    db.database.obj.close()
