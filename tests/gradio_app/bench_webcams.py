"""How many webcam users does this machine serve at >= 10 frames/s each? (issue 9)

    .venv/bin/python -m tests.gradio_app.bench_webcams --users 1 2 4 --seconds 20

(from the repository root, which makes ``tests.helpers`` importable).

Starts run.py's whole server (portal + /app) in a child process, registers N users and
drives N simulated webcams through Gradio's own protocol: each joins the stream event with
a 640x480 JPEG (one face), then sends a new frame every 50 ms to
``/app/gradio_api/stream/<event_id>`` as the browser does (the server analyses the newest
one), while reading the annotated frames from the event stream. Prints, per N, the frames/s
each user got back. Bounded: N x seconds of load per step.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.helpers import SECRET
from tests.helpers.app import ServerThread, free_port, jpeg_bytes, webcam_frames
from tests.helpers.gradio_proto import frame_data, fn_index, join, logged_in


def serve(port: int, data_dir: str, model: str | None, ready) -> None:
    import run
    from portal.config import load_config
    from portal.analyses.settings import AnalysisSettings

    config = load_config({}, data_dir=Path(data_dir), database_url=str(Path(data_dir) / "app.sqlite3"),
                         secret_key=SECRET, testing=True, password_hash_method="pbkdf2:sha256:1000",
                         log_file=Path(data_dir) / "app.log", register_limit="1000 per hour")
    settings = AnalysisSettings(model_path=model, warm_up=True)
    with ServerThread(run.build_app(config, realtime_settings=settings), port=port):
        ready.set()
        while True:
            time.sleep(3600)


def webcam(base_url: str, name: str, frames: list[bytes], seconds: float, out: list) -> None:
    http = logged_in(base_url, name)
    index = fn_index(http, "webcam", "stream")
    session_hash, event_id = join(http, index, [frame_data(frames[0]), None, None])
    got, stop = [], threading.Event()

    def read() -> None:
        with http.stream("GET", "/app/gradio_api/queue/data", params={"session_hash": session_hash},
                         timeout=seconds + 30) as r:
            for line in r.iter_lines():
                if '"process_streaming"' in line and "live-frame" in line:
                    got.append(time.perf_counter())
                if stop.is_set() or '"process_completed"' in line:
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    t0, i = time.perf_counter(), 1
    # like the page: a frame every 50 ms whether or not the previous POST was answered
    with ThreadPoolExecutor(max_workers=4) as pool:
        while time.perf_counter() - t0 < seconds:
            body = {"data": [frame_data(frames[i % len(frames)]), None, None], "fn_index": index,
                    "session_hash": session_hash, "event_data": None}
            pool.submit(http.post, f"/app/gradio_api/stream/{event_id}", json=body)
            i += 1
            time.sleep(0.05)
    stop.set()
    http.post(f"/app/gradio_api/stream/{event_id}/close")
    reader.join(30)
    out.append(sum(1 for t in got if t > t0) / seconds)
    http.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--model", default=None, help="ONNX model (default onnx/emotion.onnx)")
    args = parser.parse_args(argv)
    frames = [jpeg_bytes(f, 75) for f in webcam_frames(12)]
    port, ready = free_port(), mp.Event()
    server = mp.Process(target=serve, args=(port, tempfile.mkdtemp(), args.model, ready), daemon=True)
    server.start()
    try:
        if not ready.wait(120):
            raise SystemExit("server did not start")
        base, n_user = f"http://127.0.0.1:{port}", 0
        webcam(base, "warm-up", frames, 5.0, [])  # model and detectors loaded before measuring
        for n in args.users:
            fps: list[float] = []
            clients = [threading.Thread(target=webcam, args=(base, f"cam{n_user + k}", frames, args.seconds, fps))
                       for k in range(n)]
            n_user += n
            for c in clients:
                c.start()
            for c in clients:
                c.join()
            print(f"{n} webcam users: frames/s per user " + ", ".join(f"{f:.1f}" for f in sorted(fps))
                  + f" (min {min(fps):.1f})", flush=True)
    finally:
        server.terminate()
        server.join(10)


if __name__ == "__main__":
    main()
