"""Issue 18 (Low): ``kill -TERM`` on the server, as systemd and docker stop it, leaves nothing
running.  run.py is started as the README documents (``python run.py --host --port``, DATA_DIR in
a temporary folder), a video job runs through the API (which starts the embedded pool's worker
and multiprocessing's resource tracker), then the server gets SIGTERM: within 15 s neither the
server nor any process of its group (the pool's workers, the resource tracker) may be left."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import REPO, TERMINAL
from .test_two_apps import _free_port, token, wait_up

pytestmark = pytest.mark.slow
PASSWORD = "Correct-Horse-42"


def group_members(pgid: int) -> list[str]:
    """``pid cmdline`` of every live process in process group ``pgid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()  # state, ppid, pgrp, ...
            if int(fields[2]) == pgid and fields[0] != "Z":
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append(f"{entry.name} {cmdline[:120]}")
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return found


def start_server(data_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "DATA_DIR": str(data_dir), "JOB_WORKERS": "1"}
    for name in ("DATABASE_URL", "REDIS_URL", "APP_ENV"):
        env.pop(name, None)  # the embedded default: SQLite in DATA_DIR, the server's own pool
    with open(log_path, "wb") as out:
        return subprocess.Popen([sys.executable, "run.py", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=REPO, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT)


def api_client(base: str) -> httpx.Client:
    web = httpx.Client(base_url=base, timeout=60)
    r = web.post("/register", data={"username": "ann", "email": "ann@example.org", "password": PASSWORD,
                                    "confirm": PASSWORD, "csrf_token": token(web, "/register")})
    assert r.status_code == 302, r.text
    r = httpx.post(f"{base}/api/v1/token", data={"username": "ann", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=f"{base}/api/v1", timeout=60,
                        headers={"Authorization": f"Bearer {r.json()['access_token']}"})


def run_video_job(api: httpx.Client, video: bytes) -> None:
    r = api.post("/videos", data={"title": "Gallery", "preset": "close"},
                 files={"video": ("visit.mp4", video, "video/mp4")})
    assert r.status_code in (200, 201, 202), r.text
    job_id = r.json()["job_id"]
    deadline = time.monotonic() + 240
    while (job := api.get(f"/jobs/{job_id}").json())["status"] not in TERMINAL:
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    assert job["status"] == "done", job


def test_sigterm_stops_the_server_and_every_child(tmp_path, short_video):
    port = _free_port()
    proc = start_server(tmp_path / "data", port, tmp_path / "server.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base, timeout=180, proc=proc)
        with api_client(base) as api:
            run_video_job(api, short_video.read_bytes())
        children = group_members(proc.pid)
        assert len(children) >= 3, children  # the server, the pool's worker, the resource tracker
        proc.send_signal(signal.SIGTERM)  # the server only, as `kill -TERM <pid>`
        deadline = time.monotonic() + 15
        while (left := group_members(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"still running 15 s after SIGTERM: {left}"
        assert proc.wait(timeout=1) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it is done
        assert "job pool shut down" in (tmp_path / "server.log").read_text()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
