"""Scale-out over real HTTP: two server processes (``run.py``) and two Celery workers sharing
PostgreSQL, Redis and DATA_DIR. A video uploaded through one server is visible (and
downloadable) through the other and is run by a worker."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

import db
from db import videos
from db.testing import postgres_available

from .conftest import REDIS_URL, REPO, redis_ok, service_env, start_worker, stop

pytestmark = [pytest.mark.skipif(not redis_ok(), reason=f"Redis not reachable at {REDIS_URL}"),
              pytest.mark.skipif(not postgres_available(), reason="PostgreSQL not reachable"),
              pytest.mark.slow]

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"|type="hidden" name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(settings, port: int) -> subprocess.Popen:
    env = {**service_env(settings), "SECRET_KEY": "k" * 16 + "0123456789abcdef" * 2, "LOG_FILE": str(settings.data_dir / f"app-{port}.log")}
    return subprocess.Popen([sys.executable, "run.py", "--port", str(port)], cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_up(base: str, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    """Until ``base`` answers /healthz; fails at once if ``proc`` (the server) has died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc is None or proc.poll() is None, f"the server at {base} exited ({proc.returncode})"
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{base} did not start")


def token(client: httpx.Client, url: str) -> str:
    m = TOKEN.search(client.get(url).text)
    assert m, url
    return m.group(1) or m.group(2)


def test_two_servers_two_workers(pg_settings, short_video):
    settings = pg_settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    ports = [_free_port(), _free_port()]
    procs = [start_server(settings, p) for p in ports] + [start_worker(settings), start_worker(settings)]
    try:
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        wait_up(a)
        wait_up(b)
        ca = httpx.Client(base_url=a)
        password = "Correct-Horse-42"
        r = ca.post("/register", data={"username": "ann", "email": "ann@example.org", "password": password,
                                       "confirm": password, "csrf_token": token(ca, "/register")})
        assert r.status_code == 302
        data = short_video.read_bytes()
        located = []
        for i in range(2):
            r = ca.post("/videos", data={"title": f"clip {i}", "preset": "close", "csrf_token": token(ca, "/videos")},
                        files={"video": (f"clip{i}.mp4", data, "video/mp4")})
            assert r.status_code == 302
            located.append(r.headers["location"])
        cb = httpx.Client(base_url=b, cookies=ca.cookies)  # the same browser, sent to the other server
        page = cb.get("/videos").text
        assert "clip 0" in page and "clip 1" in page
        with db.connection():  # the job ids (the page shows them only while the job runs)
            job_ids = [videos.get_video(int(url.rsplit("/", 1)[1])).job_id for url in located]
        deadline = time.monotonic() + 240
        statuses = {}
        while time.monotonic() < deadline:
            statuses = {j: cb.get(f"/videos/jobs/{j}.json").json() for j in job_ids}
            if all(s["status"] not in ("queued", "running") for s in statuses.values()):
                break
            time.sleep(0.5)
        assert [s["status"] for s in statuses.values()] == ["done", "done"], statuses
        assert all(s["worker"].startswith("celery@") for s in statuses.values())
        video = cb.get(located[0] + "/annotated.mp4")
        assert video.status_code == 200 and video.content[4:8] == b"ftyp"
        assert ca.get(located[1] + "/timeline.csv").text.startswith("t,frame,track_id")
    finally:
        for p in procs:
            stop(p)
