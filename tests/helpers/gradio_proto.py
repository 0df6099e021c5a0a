"""A client of Gradio's queue protocol for the security tests, as a browser (or an attacker)
speaks it to /app: ``POST gradio_api/queue/join`` with ``fn_index``/``data``/``session_hash``,
then the event stream ``GET gradio_api/queue/data?session_hash=...``."""
from __future__ import annotations

import base64
import json
import secrets

import httpx

from tests.helpers import PASSWORD, TOKEN_RE


def logged_in(base_url: str, name: str) -> httpx.Client:
    """A new browser that registers ``name`` on the portal (which logs it in)."""
    http = httpx.Client(base_url=base_url, timeout=60)
    m = TOKEN_RE.search(http.get("/register").text)
    data = {"username": name, "email": f"{name}@example.org", "password": PASSWORD,
            "confirm": PASSWORD, "csrf_token": m.group(1) or m.group(2)}
    assert http.post("/register", data=data).status_code == 302
    return http


def fn_index(http: httpx.Client, elem_id: str, event: str) -> int:
    """The index of the event ``event`` (``click``, ``stream``...) of the component ``elem_id``."""
    config = http.get("/app/config").json()
    ids = {c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id}
    for i, dep in enumerate(config["dependencies"]):
        if any(t[0] in ids and t[1] == event for t in dep["targets"]):
            return i
    raise LookupError((elem_id, event))


def file_data(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def frame_data(jpeg: bytes) -> dict:
    return {"url": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode(), "meta": {"_type": "gradio.FileData"}}


def upload(http: httpx.Client, name: str, data: bytes) -> dict:
    """Upload a file the way the browser does; its FileData for an event input."""
    r = http.post("/app/gradio_api/upload", files={"files": (name, data, "image/jpeg")})
    r.raise_for_status()
    return {"path": r.json()[0], "orig_name": name, "size": len(data), "meta": {"_type": "gradio.FileData"}}


def join(http: httpx.Client, index: int, data: list, session_hash: str | None = None) -> tuple[str, str]:
    """Queue one event; its (session_hash, event_id)."""
    session_hash = session_hash or secrets.token_hex(6)
    r = http.post("/app/gradio_api/queue/join",
                  json={"data": data, "fn_index": index, "session_hash": session_hash,
                        "event_data": None, "trigger_id": None})
    r.raise_for_status()
    return session_hash, r.json()["event_id"]


def close_stream(http: httpx.Client, event_id: str) -> None:
    http.post(f"/app/gradio_api/stream/{event_id}/close")


def messages(http: httpx.Client, session_hash: str, until=("process_completed",), limit_s: float = 60):
    """The event stream's messages up to (and with) the first whose ``msg`` is in ``until``."""
    out = []
    with http.stream("GET", "/app/gradio_api/queue/data", params={"session_hash": session_hash},
                     timeout=limit_s) as r:
        for line in r.iter_lines():
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            out.append(msg)
            if msg.get("msg") in until:
                break
    return out


def call(http: httpx.Client, index: int, data: list, session_hash: str | None = None,
         until=("process_completed",), limit_s: float = 60) -> dict:
    """Run one event; its last message (``output`` holds ``data`` or ``error``)."""
    session_hash, _ = join(http, index, data, session_hash)
    return messages(http, session_hash, until, limit_s)[-1]


STREAMED = ("process_streaming", "process_generating", "process_completed")


def first_frame(http: httpx.Client, index: int, jpeg: bytes, session_hash: str | None = None,
                limit_s: float = 60) -> tuple[dict, str]:
    """Open a webcam stream with one frame; the first answer and the event id (to close it)."""
    session_hash, event_id = join(http, index, [frame_data(jpeg), None, None], session_hash)
    return messages(http, session_hash, STREAMED, limit_s)[-1], event_id
