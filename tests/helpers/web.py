"""Helpers for the portal tests: its forms through Flask's test client (or an httpx client)."""
import json
import time
from pathlib import Path

import db
from tests.helpers import PASSWORD, TOKEN_RE


def csrf_token(client, url):
    page = client.get(url)
    match = TOKEN_RE.search(page.text)
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1) or match.group(2)


def post(client, url, data=None, page=None, **kwargs):
    """POST a form the way a browser does: with the CSRF token of ``page``."""
    data = dict(data or {})
    data["csrf_token"] = csrf_token(client, page or url)
    return client.post(url, data=data, **kwargs)


def register(client, username="alice", email=None, password=PASSWORD, **extra):
    data = {"username": username, "email": email or f"{username}@example.org",
            "password": password, "confirm": password, **extra}
    return post(client, "/register", data)


def login(client, login_name="alice", password=PASSWORD, remember=False, next_url=None):
    data = {"login": login_name, "password": password}
    if remember:
        data["remember"] = "y"
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return post(client, url, data, page="/login")


def wait_job(client, job_id, timeout=180.0):
    """Poll a job's JSON (``/videos/jobs/<id>.json``) until it ends; ``client``: Flask's test
    client or an httpx client (a real server)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = json.loads(client.get(f"/videos/jobs/{job_id}.json").text)
        if status["status"] not in ("queued", "running"):
            return status
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not end: {status}")


def logout(client):
    return post(client, "/logout", page="/menu")


def add_computation(config, user_id, title="Portrait", faces=2, files=True, kind="upload"):
    """Record a computation with real image files under DATA_DIR/uploads."""
    from PIL import Image

    from portal.analyses.storage import new_image_paths
    original, annotated = new_image_paths(config.data_dir, user_id)
    if files:
        Image.new("RGB", (64, 48), (200, 120, 40)).save(Path(config.data_dir) / original)
        Image.new("RGB", (64, 48), (40, 120, 200)).save(Path(config.data_dir) / annotated)
    probs = {"angry": 0.05, "disgust": 0.01, "fear": 0.04, "happy": 0.7, "sad": 0.05,
             "surprise": 0.05, "neutral": 0.1}
    face = {"box": [4, 4, 20, 20], "detection_score": 0.95, "emotion": "happy",
            "confidence": 0.7, "probabilities": probs}
    result = {"image": {"width": 64, "height": 48}, "faces": [face] * faces,
              "model": {"name": "fer", "version": "v1"}, "detector": "short",
              "timing_ms": {"total": 21.5}}
    with db.connection():
        return db.record_computation(owner_id=user_id, kind=kind, title=title, exhibit="Room 3",
                                     notes="A note", consent=True, original_path=original,
                                     annotated_path=annotated, result=result, faces_found=faces,
                                     dominant_emotion="happy" if faces else None,
                                     timings={"total": 21.5}, model_version="fer-v1")
