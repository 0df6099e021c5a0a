"""Helpers for the web-app tests: test images, a fake webcam file, a real server in a thread."""
from __future__ import annotations

import io
import socket
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from tests.helpers import PASSWORD, REPO, TOKEN_RE

REAL_MODEL = REPO / "onnx" / "emotion.onnx"


def png_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(rgb: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def portrait_scene(size=(480, 640), x: int = 200, y: int = 90) -> np.ndarray:
    """A webcam-like 640x480 frame: the astronaut's head and shoulders on a no-face background."""
    from realtime.research.scenes import background, real_photo

    H, W = size
    person = cv2.resize(real_photo("astronaut")[20:400, 90:360], (216, 304), interpolation=cv2.INTER_AREA)
    frame = background("coffee", (H, W)).copy()
    frame[y:y + person.shape[0], x:x + person.shape[1]] = person
    return frame


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 15) -> Path:
    """An uncompressed YUV4MPEG2 (I420) file, what Chromium's fake webcam plays in a loop."""
    h, w = frames[0].shape[:2]
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:
            fh.write(b"FRAME\n")
            fh.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def webcam_frames(n: int = 45) -> list[np.ndarray]:
    """One face drifting slowly across a 640x480 frame (a person in front of a webcam)."""
    return [portrait_scene(x=200 + int(40 * np.sin(i / 8.0)), y=90 + int(10 * np.cos(i / 6.0)))
            for i in range(n)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """``run.py``'s ASGI app served by uvicorn in a background thread."""

    def __init__(self, app, port: int | None = None):
        import uvicorn

        self.port = port or free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=15)


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form on page ``url``."""
    m = TOKEN_RE.search(client.get(url).text)
    assert m, url
    return m.group(1) or m.group(2)


def register(client, name: str = "alice") -> None:
    """Register (and so log in) ``name`` through the portal's form."""
    data = {"username": name, "email": f"{name}@example.org", "password": PASSWORD,
            "confirm": PASSWORD, "csrf_token": csrf_token(client, "/register")}
    assert client.post("/register", data=data).status_code == 302


CHROMIUM = Path("/usr/bin/chromium")


def launch_with_camera(playwright, y4m: Path):
    """Headless Chromium whose webcam plays ``y4m`` (permission prompts answered yes)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}"])


def register_in_browser(page, url: str, name: str = "alice") -> None:
    """Fill and send the registration form as a person would; lands on the menu."""
    page.goto(url + "/register")
    page.fill("#username", name)
    page.fill("#email", f"{name}@example.org")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/menu")
