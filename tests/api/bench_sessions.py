"""Benchmark of camera recording sessions through the real server (issue 11).

    .venv/bin/python -m tests.api.bench_sessions [--seconds 20] [--cameras 1,2,4,8] [--fps 5]

Starts ``run.py`` in a subprocess on a free port with a throw-away SQLite database, creates a
user, a personal access token and an exhibit, then (1) posts 640x480 JPEG frames with one face
to one session as fast as answers come back and (2) runs N cameras at ``--fps`` frames/s each
(one thread and session per camera).  A server "carries" N cameras when every camera achieves at
least 95 % of its frame rate and the 95th-percentile answer time stays under one frame period.
Numbers depend on the machine and what else runs on it: say which when quoting them.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import httpx

ROOT = Path(__file__).resolve().parents[2]


def frame_jpeg() -> bytes:
    from realtime import encode
    from realtime.research.scenes import real_photo

    rgb = cv2.resize(real_photo("astronaut"), (640, 480), interpolation=cv2.INTER_AREA)
    return encode(rgb, ".jpg", 85)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, DATA_DIR=str(data_dir), API_MAX_FPS="1000", API_MAX_SESSIONS="1000",
               LOG_FILE=str(data_dir / "app.log"), LOG_LEVEL="WARNING")
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--port", str(port)], env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json").status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the server did not start")


def setup(data_dir: Path) -> tuple[str, int]:
    """A user, a personal access token and an exhibit in the server's database."""
    import db
    from db import museum as museum_api, tokens

    db.init(str(data_dir / "app.sqlite3"))
    with db.connection():
        user = db.create_user("bench", "bench@example.org", "not-a-hash")
        token, _ = tokens.create_token(user.id, name="bench")
        org = museum_api.create_organisation(user.id, "Bench museum")
        return token, museum_api.create_exhibit(user.id, org.id, "Bench exhibit").id


def camera(api: httpx.Client, exhibit: int, jpeg: bytes, seconds: float, fps: float | None,
           out: list) -> None:
    """One camera: a session, frames for ``seconds`` (at ``fps``, or back to back), stop."""
    sid = api.post("/sessions", json={"exhibit_id": exhibit}).raise_for_status().json()["id"]
    start, n, latencies = time.monotonic(), 0, []
    while (now := time.monotonic()) - start < seconds:
        if fps:
            time.sleep(max(0.0, start + n / fps - now))
        t0 = time.monotonic()
        r = api.post(f"/sessions/{sid}/frames", files={"image": ("f.jpg", jpeg, "image/jpeg")},
                     data={"t": f"{t0 - start:.3f}"})
        latencies.append(time.monotonic() - t0)
        assert r.status_code == 200 and len(r.json()["faces"]) == 1, r.text
        n += 1
    elapsed = time.monotonic() - start
    api.post(f"/sessions/{sid}/stop").raise_for_status()
    out.append((n / elapsed, latencies))


def run_cameras(url: str, token: str, exhibit: int, jpeg: bytes, n: int, seconds: float,
                fps: float | None) -> tuple[list[float], float]:
    results: list = []
    clients = [httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
               for _ in range(n)]
    threads = [threading.Thread(target=camera, args=(c, exhibit, jpeg, seconds, fps, results))
               for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    latencies = sorted(x for _, lat in results for x in lat)
    return [r for r, _ in results], latencies[int(0.95 * (len(latencies) - 1))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--cameras", default="1,2,4,8")
    parser.add_argument("--fps", type=float, default=5)
    args = parser.parse_args(argv)
    jpeg = frame_jpeg()
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        server = start_server(Path(tmp), port)
        try:
            token, exhibit = setup(Path(tmp))
            url = f"http://127.0.0.1:{port}/api/v1"
            run_cameras(url, token, exhibit, jpeg, 1, 3, None)  # warm-up: model and detector loaded
            rates, p95 = run_cameras(url, token, exhibit, jpeg, 1, args.seconds, None)
            print(f"| one camera, back to back | {rates[0]:.1f} frames/s | p95 {1000 * p95:.0f} ms |")
            for n in (int(x) for x in args.cameras.split(",")):
                rates, p95 = run_cameras(url, token, exhibit, jpeg, n, args.seconds, args.fps)
                carried = min(rates) >= 0.95 * args.fps and p95 < 1.0 / args.fps
                print(f"| {n} cameras at {args.fps:g} fps | min {min(rates):.2f}, mean "
                      f"{statistics.mean(rates):.2f} frames/s | p95 {1000 * p95:.0f} ms | "
                      f"{'carried' if carried else 'NOT carried'} |", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
