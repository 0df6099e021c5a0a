"""Issue 18 (Low), over HTTP against run.py's server: an API upload stores only the photo and
its annotated copy (before: also PDF, JSON and annotated downloads the API never serves), and
``DELETE /api/v1/analyses/{id}`` leaves no file of it (before: those downloads stayed); the
upload quota answers 429 with Retry-After (before: 422)."""
from __future__ import annotations

import dataclasses

import pytest
import db
from tests.helpers.api import login, make_user
from tests.helpers.app import ServerThread

pytestmark = pytest.mark.security
KEEP = {"app.sqlite3", "app.sqlite3-wal", "app.sqlite3-shm", "secret_key"}


def _files(data_dir) -> list[str]:
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*")
                  if p.is_file() and p.name not in KEEP)


def _upload(client, jpeg: bytes):
    return client.post("/analyses", files={"image": ("p.jpg", jpeg, "image/jpeg")},
                       data={"title": "Portrait"})


def test_api_analysis_leaves_no_file_once_deleted(users, config, portrait_jpeg):
    alice = users["alice"]
    made = _upload(alice, portrait_jpeg)
    assert made.status_code == 201, made.text
    stored = _files(config.data_dir)
    assert stored and all(f.startswith("uploads/") for f in stored), stored  # no downloads
    assert alice.get(f"/analyses/{made.json()['id']}/pdf").status_code == 200  # built when asked
    assert alice.delete(f"/analyses/{made.json()['id']}").status_code == 204
    assert _files(config.data_dir) == [], _files(config.data_dir)


def test_upload_quota_is_429(config, app_settings, museum_settings, portrait_jpeg):
    import run

    settings = dataclasses.replace(app_settings, uploads_per_minute=2)
    app = run.build_app(config, realtime=False, realtime_settings=settings, museum_settings=museum_settings)
    with ServerThread(app) as server:
        make_user(config, "alice")
        with login(server, "alice") as alice:
            assert [_upload(alice, portrait_jpeg).status_code for _ in range(2)] == [201, 201]
            third = _upload(alice, portrait_jpeg)
    db.database.obj.close()
    assert third.status_code == 429 and third.headers["Retry-After"] == "60", third.text
    assert "2 photos" in third.json()["detail"]
