"""Issue 9, the Gradio side: attacks sent through Gradio's queue protocol to a real server
(uvicorn in a thread, run.build_app): server paths as event inputs, another user's webcam
state, fair shares, pixel limits before decoding, Gradio's temporary files, clear messages."""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time

import pytest

import db
from tests.helpers import SECRET
from tests.helpers.app import ServerThread, jpeg_bytes, png_bytes
from tests.helpers.gradio_proto import (STREAMED, call, close_stream, file_data, first_frame, fn_index,
                                        frame_data, join, logged_in, messages, upload)

pytestmark = pytest.mark.security


@pytest.fixture(scope="module")
def server(tmp_path_factory, settings):
    import dataclasses

    import run
    from portal.config import load_config

    tmp = tmp_path_factory.mktemp("gsec")
    config = load_config({}, data_dir=tmp / "data", database_url=str(tmp / "data" / "app.sqlite3"),
                         secret_key=SECRET, testing=True, password_hash_method="pbkdf2:sha256:1000",
                         log_file=tmp / "logs" / "app.log", register_limit="1000 per hour")
    settings = dataclasses.replace(settings, streams_per_user=2, uploads_per_minute=3)
    with ServerThread(run.build_app(config, realtime_settings=settings)) as srv:
        srv.data_dir = config.data_dir
        srv.cache = config.data_dir / "gradio"
        yield srv
    db.database.obj.close()


_names = iter(f"user{i}" for i in range(1000))


@pytest.fixture
def alice(server):
    http = logged_in(server.url, next(_names))
    yield http
    http.close()


@pytest.fixture
def bob(server):
    http = logged_in(server.url, next(_names))
    yield http
    http.close()


def _computations(http) -> int:
    uid = int(http.get("/app/config").json()["username"])
    with db.connection():
        return db.list_computations(uid).total


def _text(msg: dict) -> str:
    return repr(msg.get("output"))


def _files_with(root, data: bytes) -> list:
    """Files under ``root`` whose content contains ``data``."""
    from pathlib import Path

    hits = []
    for folder, _, names in os.walk(root):  # folders may vanish meanwhile (pruning)
        for path in (Path(folder) / n for n in names):
            try:
                if path.is_file() and not path.is_symlink() and data in path.read_bytes():
                    hits.append(path)
            except OSError:
                continue
    return hits


# ------------------------------------------------------------ 1. server paths as inputs
def _attack_paths(server, owner_http, tmp_path, portrait) -> dict:
    """Paths an attacker may name: system files, devices, a pipe, the portal's secrets, another
    user's stored photo, and a pipe, a link and a traversal inside Gradio's upload cache."""
    secret = server.data_dir / "secret_key"
    secret.write_text(SECRET)
    fd = upload(owner_http, "bob.jpg", jpeg_bytes(portrait))
    assert call(owner_http, fn_index(owner_http, "upload-run", "click"),
                [fd, "Bob's photo", "", "", True, None])["success"]
    with db.connection():
        comp = db.list_computations(int(owner_http.get("/app/config").json()["username"])).items[0]
    fifo, inner_fifo = tmp_path / "pipe", server.cache / "evil" / "pipe"
    inner_fifo.parent.mkdir(parents=True, exist_ok=True)
    for f in (fifo, inner_fifo):
        if not f.exists():
            os.mkfifo(f)
    link = server.cache / "evil" / "passwd.jpg"
    if not link.is_symlink():
        link.symlink_to("/etc/passwd")
    return {"/dev/zero": "/dev/zero", "/etc/passwd": "/etc/passwd", "environ": "/proc/self/environ",
            "secret": str(secret), "database": str(server.data_dir / "app.sqlite3"),
            "other user's photo": str(server.data_dir / comp.original_path), "fifo": str(fifo),
            "fifo in cache": str(inner_fifo), "link in cache": str(link),
            "traversal": f"{server.cache}/../secret_key"}


@pytest.mark.parametrize("event", ["upload", "webcam"])
def test_server_paths_are_refused_as_event_inputs(server, alice, bob, tmp_path, portrait, event):
    paths = _attack_paths(server, bob, tmp_path, portrait)
    index = fn_index(alice, "upload-run" if event == "upload" else "webcam",
                     "click" if event == "upload" else "stream")
    for name, path in paths.items():
        data = [file_data(path), "Stolen", "", "", True, None] if event == "upload" else [file_data(path), None, None]
        result = {}
        attack = threading.Thread(target=lambda: result.update(
            msg=call(alice, index, data, until=("process_completed", "process_streaming"), limit_s=30)))
        attack.start()
        t0 = time.perf_counter()  # the server keeps answering others meanwhile
        assert bob.get("/app/config", timeout=10).status_code == 200, name
        assert bob.get("/menu", timeout=10).status_code == 200, name
        assert time.perf_counter() - t0 < 10, name
        attack.join(timeout=30)
        assert not attack.is_alive(), f"{name}: no answer"
        msg = result["msg"]
        assert msg["msg"] == "process_completed", (name, msg)
        out = _text(msg)
        assert not msg.get("success") or "could not be read" in out, (name, msg)
        assert "emotion-" not in out and "PDF" not in out, (name, msg)
    assert _computations(alice) == 0
    passwd = open("/etc/passwd", "rb").read()
    import tempfile
    for root in (server.cache, server.data_dir, __import__("pathlib").Path(tempfile.gettempdir()) / "gradio"):
        assert [p for p in _files_with(root, passwd) if p.name != "passwd.jpg"] == [], root
    assert _files_with(server.cache, SECRET.encode()) == []


def test_uploaded_files_still_work(server, alice, portrait):
    fd = upload(alice, "photo.jpg", jpeg_bytes(portrait))
    msg = call(alice, fn_index(alice, "upload-run", "click"), [fd, "Door", "", "", False, None])
    assert msg["success"] and "Saved as computation" in _text(msg)
    assert _computations(alice) == 1


# --------------------------------------------------- 2. webcam state belongs to the user
def test_another_users_session_hash_cannot_capture_their_frame(server, alice, bob, portrait):
    stream = fn_index(alice, "webcam", "stream")
    first, event_id = first_frame(alice, stream, jpeg_bytes(portrait), session_hash="alicecam01")
    try:
        assert first["msg"] == "process_streaming" and "live-frame" in _text(first)
        capture = fn_index(bob, "capture-button", "click")
        stolen = call(bob, capture, [None, "Stolen", "", "", True], session_hash="alicecam01")
        assert "belongs to another account" in _text(stolen), stolen
        assert _computations(bob) == 0 and _computations(alice) == 0
        # the owner still captures it
        own = call(alice, capture, [None, "Mine", "", "", True], session_hash="alicecam01")
        assert "Saved as computation" in _text(own), own
        assert _computations(alice) == 1
    finally:
        close_stream(alice, event_id)


# ------------------------------------------------------------------ 3. fair share
def _huge_header_jpeg(width: int = 9000, height: int = 9000) -> bytes:
    """A 16x16 JPEG whose header declares ``width`` x ``height`` pixels (81 megapixels)."""
    import numpy as np

    data = bytearray(jpeg_bytes(np.zeros((16, 16, 3), np.uint8)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 7] = height.to_bytes(2, "big")
    data[sof + 7:sof + 9] = width.to_bytes(2, "big")
    return bytes(data)


def test_webcam_frame_declaring_81_megapixels_is_refused_before_decoding(server, alice):
    import tracemalloc

    frame = _huge_header_jpeg()
    assert len(frame) < 2000
    tracemalloc.start()
    try:
        msg, _ = first_frame(alice, fn_index(alice, "webcam", "stream"), frame)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert msg["msg"] == "process_completed" and not msg["success"], msg
    assert "81,000,000 pixels" in _text(msg) and "limit" in _text(msg), msg
    assert peak < 50 * 1024 * 1024, peak  # 81 MP of RGB would be 243 MB


def _join_raw(http, index: int, data: list):
    """A queue join as the browser sends it; the HTTP response (no error raised)."""
    return http.post("/app/gradio_api/queue/join",
                     json={"data": data, "fn_index": index, "session_hash": secrets.token_hex(6),
                           "event_data": None, "trigger_id": None})


def test_streams_per_user_are_limited_and_idle_streams_do_not_block_others(server, alice, bob, portrait):
    stream, frame, opened, pages = fn_index(alice, "webcam", "stream"), jpeg_bytes(portrait), [], []
    with contextlib.ExitStack() as open_pages:
        for i in range(2):  # the account's two streams run, their pages stay open
            session_hash, event_id = join(alice, stream, [frame_data(frame), None, None])
            opened.append((alice, event_id))
            pages.append(open_pages.enter_context(alice.stream(
                "GET", "/app/gradio_api/queue/data", params={"session_hash": session_hash}, timeout=60)).iter_lines())
            assert "live-frame" in _text(_first_streamed(pages[-1])), i
        _refused_then_others_served(alice, bob, stream, frame, opened)


def _first_streamed(lines) -> dict:
    """The first streamed answer; ``lines`` (an open event stream) is kept for the caller."""
    for line in lines:
        if line.startswith("data:") and (msg := json.loads(line[5:])).get("msg") in STREAMED:
            return msg
    raise AssertionError("the event stream ended without a frame")


def _refused_then_others_served(alice, bob, stream, frame, opened) -> None:
    try:
        for _ in range(6):  # and six more are refused when they join
            r = _join_raw(alice, stream, [frame_data(frame), None, None])
            assert r.status_code == 429 and "2 webcam streams open" in r.json()["detail"], r.text
        t0 = time.perf_counter()
        msg, event_id = first_frame(bob, stream, frame, limit_s=30)  # another user still gets in
        opened.append((bob, event_id))
        assert "live-frame" in _text(msg) and time.perf_counter() - t0 < 30, msg
    finally:
        for http, event_id in opened:
            close_stream(http, event_id)


def test_idle_stream_joins_beyond_the_share_are_refused_until_the_streams_end(server, alice, bob, portrait):
    """Streams that never send a frame hold a slot of the stream's concurrency limit (all
    users together) until they end: one account may hold ``streams_per_user`` of them."""
    stream, frame, opened = fn_index(alice, "webcam", "stream"), jpeg_bytes(portrait), []
    try:
        for _ in range(2):  # joined, then silent: no frame, no event stream read
            r = _join_raw(alice, stream, [None, None, None])
            assert r.status_code == 200, r.text
            opened.append((alice, r.json()["event_id"]))
        refused = [_join_raw(alice, stream, [None, None, None]) for _ in range(30)]
        assert {r.status_code for r in refused} == {429}, {r.status_code for r in refused}
        assert "2 webcam streams open" in refused[0].json()["detail"]
        as_string = alice.post("/app/gradio_api/queue/join",  # Gradio reads "5" as fn_index 5
                               json={"data": [None, None, None], "fn_index": str(stream),
                                     "session_hash": secrets.token_hex(6)})
        assert as_string.status_code == 429, as_string.text
        msg, event_id = first_frame(bob, stream, frame, limit_s=30)  # another user joins and is served
        opened.append((bob, event_id))
        assert "live-frame" in _text(msg), msg
    finally:
        for http, event_id in opened:
            close_stream(http, event_id)
    deadline = time.monotonic() + 20  # the closed streams leave Gradio's queue: alice may join again
    while (r := _join_raw(alice, stream, [None, None, None])).status_code == 429 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert r.status_code == 200, r.text
    close_stream(alice, r.json()["event_id"])


def test_a_disconnected_stream_frees_its_slot(server, alice, portrait):
    stream, frame = fn_index(alice, "webcam", "stream"), jpeg_bytes(portrait)
    kept = first_frame(alice, stream, frame)[1]
    session_hash, dropped = join(alice, stream, [frame_data(frame), None, None])
    messages(alice, session_hash, STREAMED)  # served, then the browser goes away (tab closed)
    try:
        deadline = time.monotonic() + 20
        while (r := _join_raw(alice, stream, [frame_data(frame), None, None])).status_code == 429 \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        assert r.status_code == 200, r.text
        close_stream(alice, r.json()["event_id"])
    finally:
        close_stream(alice, kept)
        close_stream(alice, dropped)


def test_uploads_per_minute_are_limited(server, alice, portrait):
    run = fn_index(alice, "upload-run", "click")
    texts = []
    for i in range(4):
        fd = upload(alice, f"p{i}.jpg", jpeg_bytes(portrait))
        texts.append(_text(call(alice, run, [fd, f"Photo {i}", "", "", False, None])))
    assert all("Saved as computation" in t for t in texts[:3]), texts
    assert "3 photos in the last minute" in texts[3], texts[3]
    assert _computations(alice) == 3


# ------------------------------------------------------------- 4. Gradio's temp files
def test_deleting_a_computation_leaves_no_copy_of_its_images(server, alice):
    from tests.helpers import TOKEN_RE
    from tests.helpers.app import portrait_scene

    photo = jpeg_bytes(portrait_scene(x=150, y=60))  # not the other tests' photo: its own bytes
    fd = upload(alice, "face.jpg", photo)
    msg = call(alice, fn_index(alice, "upload-run", "click"), [fd, "Face", "", "", False, None])
    assert msg["success"], msg
    uid = int(alice.get("/app/config").json()["username"])
    with db.connection():
        comp = db.list_computations(uid).items[0]
    stored = [(server.data_dir / p).read_bytes() for p in (comp.original_path, comp.annotated_path)]
    assert _files_with(server.cache, photo) == []  # the upload is gone once analysed
    for url in (o["url"] for o in msg["output"]["data"] if isinstance(o, dict) and o.get("url")):
        assert alice.get(url).status_code == 200  # the result image and downloads are served
    m = TOKEN_RE.search(alice.get(f"/history/{comp.id}").text)
    assert alice.post(f"/history/{comp.id}/delete", data={"csrf_token": m.group(1) or m.group(2), "confirm": "yes"}).status_code == 302
    import tempfile
    from pathlib import Path
    for root in (server.data_dir, Path(tempfile.gettempdir()) / "gradio"):
        for data in [photo, *stored]:
            assert _files_with(root, data) == [], root
    assert list(server.cache.rglob(f"emotion-{comp.id}-*")) == []


def test_start_up_and_periodic_pruning_of_gradio_files(tmp_path, monkeypatch):
    from portal.gradio_app.tempfiles import prune, use_private_cache

    monkeypatch.setenv("GRADIO_TEMP_DIR", os.environ.get("GRADIO_TEMP_DIR", ""))  # restored after
    cache = use_private_cache(tmp_path)
    old, new = cache / "a1" / "never-run.jpg", cache / "b2" / "just-uploaded.jpg"
    for p in (old, new):
        p.parent.mkdir()
        p.write_bytes(b"face")
    os.utime(old, (time.time() - 700, time.time() - 700))
    os.utime(old.parent, (time.time() - 700, time.time() - 700))
    assert prune(cache, 600) == 1
    assert not old.exists() and new.exists()
    assert oct(cache.stat().st_mode & 0o777) == "0o700"


# ----------------------------------------------------------- 5/6. clear messages
def test_over_long_title_or_notes_are_refused_with_the_limit(server, alice, portrait):
    run = fn_index(alice, "upload-run", "click")
    for fields, words in ((["T" * 201, "", ""], "title is 201 characters long; the limit is 200"),
                          (["Ok", "", "n" * 4001], "notes is 4,001 characters long; the limit is 4,000")):
        fd = upload(alice, "p.jpg", jpeg_bytes(portrait))
        assert words in _text(call(alice, run, [fd, *fields, False, None]))
    assert _computations(alice) == 0
    config = alice.get("/app/config").json()
    limits = {c["props"].get("elem_id"): c["props"].get("max_length") for c in config["components"]
              if c.get("props", {}).get("elem_id", "") in ("upload-title", "upload-notes", "capture-notes")}
    assert limits == {"upload-title": 200, "upload-notes": 4000, "capture-notes": 4000}


def test_degenerate_photo_gets_a_clear_message(server, alice):
    import numpy as np

    fd = upload(alice, "line.png", png_bytes(np.full((1, 600, 3), 128, np.uint8)))
    out = _text(call(alice, fn_index(alice, "upload-run", "click"), [fd, "Line", "", "", False, None]))
    assert "cannot be analysed" in out and "Traceback" not in out, out
    assert _computations(alice) == 0


def test_failed_downloads_say_the_computation_was_saved(server, alice, portrait):
    import shutil

    downloads = server.data_dir / "downloads"
    shutil.rmtree(downloads, ignore_errors=True)
    downloads.write_bytes(b"")  # a file where the folder should be: writing downloads fails
    try:
        fd = upload(alice, "p.jpg", jpeg_bytes(portrait))
        out = _text(call(alice, fn_index(alice, "upload-run", "click"), [fd, "Kept", "", "", False, None]))
    finally:
        downloads.unlink()
    assert "saved as computation #" in out and "downloads could not be created" in out, out
    assert "History" in out and "could not be analysed" not in out
    assert _computations(alice) == 1


def test_upload_route_takes_one_photo_per_request_and_a_quota_per_minute(server, alice, bob):
    big = os.urandom(1024 * 1024 + 512 * 1024)  # 1.5 MB each; the test limit is 2 MB per photo
    files = [("files", (f"p{i}.jpg", big, "image/jpeg")) for i in range(3)]
    r = alice.post("/app/gradio_api/upload", files=files)
    assert r.status_code == 413 and "one photo" in r.json()["detail"], r.text
    codes = [alice.post("/app/gradio_api/upload", files={"files": ("p.jpg", b"x" * 100, "image/jpeg")}).status_code
             for _ in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429, codes
    assert bob.post("/app/gradio_api/upload", files={"files": ("p.jpg", b"x", "image/jpeg")}).status_code == 200


def test_another_users_stream_cannot_be_fed_or_closed(server, alice, bob, portrait):
    """Gradio's /stream/{event_id} and /stream/{event_id}/close check only that the event
    exists: bob, holding alice's event id, gets 404 and her stream keeps running."""
    stream, frame = fn_index(alice, "webcam", "stream"), jpeg_bytes(portrait)
    session_hash, event_id = join(alice, stream, [frame_data(frame), None, None])
    try:
        body = {"data": [frame_data(frame), None, None], "fn_index": stream, "session_hash": session_hash}
        for url in (f"/app/gradio_api/stream/{event_id}", f"/app/gradio_api/stream/{event_id}/close"):
            r = bob.post(url, json=body)
            assert r.status_code == 404 and r.json()["detail"] == "No such stream.", (url, r.text)
        assert alice.post(f"/app/gradio_api/stream/{event_id}", json=body).json() == {"msg": "success"}
        assert "live-frame" in _text(messages(alice, session_hash, STREAMED)[-1])  # still hers, still served
    finally:
        r = alice.post(f"/app/gradio_api/stream/{event_id}/close")
    assert r.json() == {"msg": "success"}
