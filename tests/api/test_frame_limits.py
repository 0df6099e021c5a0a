"""Issue 18, finding 2: recording frames cannot take the server's memory.  Over real HTTP
against run.py's whole server (real-time app mounted, so kiosks record): a 6000x6000 JPEG posted
to a kiosk and to an API session is refused from its header with a message naming the limit
(FRAME_MAX_PIXELS, 1920x1080), and a burst of frames from several accounts, kiosks and cameras
together, is analysed at most FRAME_ANALYSES at a time: the others get 503 with Retry-After."""
from __future__ import annotations

import dataclasses
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

import db
from db import museum as museum_api
from tests.helpers.api import login, make_user
from tests.helpers.app import ServerThread

from .test_kiosk import CSRF_RE, portal_login, post_frame

pytestmark = [pytest.mark.security, pytest.mark.timeout(240)]
SLOTS = 2


@pytest.fixture
def site(config, app_settings, museum_settings):
    """The whole server with FRAME_ANALYSES=2; alice, bob and carol each own an exhibit."""
    import run

    config = dataclasses.replace(config, frame_analyses=SLOTS, frame_wait_s=0.2)
    app = run.build_app(config, realtime_settings=app_settings, museum_settings=museum_settings)
    with ServerThread(app) as srv:
        exhibits = {}
        for name in ("alice", "bob", "carol"):
            user = make_user(config, name)
            with db.connection():
                org = museum_api.create_organisation(user, f"{name}'s museum")
                exhibits[name] = museum_api.create_exhibit(user, org.id, "Hall").id
        yield srv, exhibits
    db.database.obj.close()


@pytest.fixture(scope="module")
def huge_jpeg() -> bytes:
    """6000x6000 pixels (36 megapixels, under the old 40-megapixel limit), a few hundred KB."""
    from PIL import Image

    ramp = np.linspace(0, 255, 6000, dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(np.stack([np.tile(ramp, (6000, 1))] * 3, axis=2)).save(out, "JPEG", quality=70)
    return out.getvalue()


def test_huge_frames_are_refused_from_their_header(site, huge_jpeg, portrait_jpeg):
    srv, exhibits = site
    assert len(huge_jpeg) < 1024 * 1024  # within API_MAX_FRAME_MB: the pixel limit refuses it
    kiosk = portal_login(srv.url, "alice")
    csrf = CSRF_RE.search(kiosk.get(f"/kiosk/{exhibits['alice']}").text).group(1)
    r = post_frame(kiosk, exhibits["alice"], csrf, huge_jpeg)
    assert r.status_code == 413, r.text
    assert "6000x6000" in r.json()["detail"] and "2,073,600 pixels" in r.json()["detail"]
    assert post_frame(kiosk, exhibits["alice"], csrf, portrait_jpeg).status_code == 200  # 640x480 is fine

    api = login(srv, "bob")
    sid = api.post("/sessions", json={"exhibit_id": exhibits["bob"]}).json()["id"]
    r = api.post(f"/sessions/{sid}/frames", files={"image": ("f.jpg", huge_jpeg, "image/jpeg")}, data={"t": "0"})
    assert r.status_code == 413, r.text
    assert "6000x6000" in r.json()["detail"] and "2,073,600 pixels" in r.json()["detail"]
    r = api.post(f"/sessions/{sid}/frames", files={"image": ("f.jpg", portrait_jpeg, "image/jpeg")},
                 data={"t": "0.5"})
    assert r.status_code == 200 and len(r.json()["faces"]) == 1


class SlowAnalyses:
    """Wraps ``Stream.process``: each frame takes 2 s more; counts the analyses running at once."""

    def __init__(self, original):
        self.original, self.running, self.peak, self.lock = original, 0, 0, threading.Lock()

    def __call__(self, stream, *args, **kwargs):
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            time.sleep(2.0)
            return self.original(stream, *args, **kwargs)
        finally:
            with self.lock:
                self.running -= 1


def test_a_burst_of_frames_is_analysed_at_most_frame_analyses_at_a_time(site, portrait_jpeg, monkeypatch):
    from realtime.stream import Stream

    srv, exhibits = site
    slow = SlowAnalyses(Stream.process)
    monkeypatch.setattr(Stream, "process", lambda stream, *args, **kwargs: slow(stream, *args, **kwargs))
    posts = []
    for name in ("alice", "bob", "carol"):  # 2 API camera sessions each ...
        api = login(srv, name)
        for _ in range(2):
            sid = api.post("/sessions", json={"exhibit_id": exhibits[name]}).json()["id"]
            posts.append(lambda api=api, sid=sid: api.post(
                f"/sessions/{sid}/frames", files={"image": ("f.jpg", portrait_jpeg, "image/jpeg")},
                data={"t": "0"}))
    for name in ("alice", "bob"):  # ... and 2 kiosks, all at once
        kiosk = portal_login(srv.url, name)
        csrf = CSRF_RE.search(kiosk.get(f"/kiosk/{exhibits[name]}").text).group(1)
        posts.append(lambda kiosk=kiosk, csrf=csrf, name=name: post_frame(kiosk, exhibits[name], csrf, portrait_jpeg))
    with ThreadPoolExecutor(len(posts)) as pool:
        answers = list(pool.map(lambda post: post(), posts))
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {200, 503}, [r.text for r in answers]
    assert slow.peak <= SLOTS, slow.peak  # never more frames analysed at once than FRAME_ANALYSES
    busy = [r for r in answers if r.status_code == 503]
    assert len(busy) >= len(posts) - 2 * SLOTS, codes  # the rest were refused, not queued
    assert all(r.headers["retry-after"] == "1" and "frames already" in r.json()["detail"] for r in busy)
    assert codes.count(200) >= SLOTS
