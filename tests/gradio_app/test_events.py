"""The web app's event functions with real images: upload, stream, capture, downloads, bad files."""
from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

import db
from portal.analyses.service import Analyses, AppError, LiveSession, stream_frame
from portal.gradio_app.events import capture, live_caption, run_upload
from tests.helpers.app import jpeg_bytes, png_bytes, webcam_frames


@pytest.fixture
def model_classes(model_path):
    """The class list from the model's metadata (the app repeats it nowhere)."""
    from realtime.classifier import load_classifier

    return lambda: load_classifier(model_path).classes


def _user(user_id):
    with db.connection():
        return db.get_user(user_id)


def _files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


# ------------------------------------------------------------------ upload
def test_upload_records_and_offers_downloads(ctx, user_id, portrait, tmp_path, caplog, model_classes):
    photo = tmp_path / "visitors.jpg"
    photo.write_bytes(jpeg_bytes(portrait))
    with caplog.at_level(logging.INFO):
        out = run_upload(ctx, user_id, str(photo), "Visitors at the door", "Room 3", "Busy day", True)
    comp = out.computation
    assert comp["kind"] == "upload" and comp["owner_id"] == user_id
    assert comp["faces_found"] == 1 and comp["dominant_emotion"] in model_classes()
    assert comp["title"] == "Visitors at the door" and comp["consent"] is True
    assert _user(user_id).computation_count == 1
    assert any("upload computation" in r.getMessage() and f"computation_id={comp['id']}" in r.getMessage()
               for r in caplog.records)
    # images stored under the user's folder, EXIF-free re-encodes
    with db.connection():
        row = db.get_computation(user_id, comp["id"])
    for stored in (row.original_path, row.annotated_path):
        assert (Path(ctx.data_dir) / stored).is_file() and f"uploads/{user_id}/" in stored
    # page content
    assert out.annotated.shape == portrait.shape
    assert len(out.rows) == 1 and len(out.rows[0]) == 3 + len(model_classes()) == 10
    assert abs(sum(out.rows[0][3:]) - 100) < 1.0
    assert "1 face found" in out.summary and f"#{comp['id']}" in out.summary
    assert "ms" in out.summary and comp["model_version"].split()[0] in out.summary
    # downloads: names, PDF text, JSON = core result + metadata
    assert out.pdf_path.name.startswith(f"emotion-{comp['id']}-visitors-at-the-door-")
    assert out.pdf_path.suffix == ".pdf" and out.json_path.suffix == ".json"
    text = _pdf_text(out.pdf_path)
    assert "Visitors at the door" in text and "Room 3" in text and "alice" in text
    assert "Busy day" in text and comp["model_version"] in text
    doc = json.loads(out.json_path.read_text())
    assert doc["user"] == "alice" and doc["id"] == comp["id"] and doc["kind"] == "upload"
    result = doc["result"]
    assert result["image"] == {"width": 640, "height": 480}
    face = result["faces"][0]
    assert set(face) >= {"box", "detection_score", "emotion", "confidence", "probabilities"}
    assert list(face["probabilities"]) == model_classes()
    assert set(result["timing_ms"]) >= {"decode", "detect", "classify", "draw", "total"}


def test_upload_of_fer_faces_in_a_scene(ctx, user_id, fer_scene, tmp_path):
    photo = tmp_path / "group.png"
    photo.write_bytes(png_bytes(fer_scene))
    out = run_upload(ctx, user_id, photo, "Group", "", "", False)
    assert out.computation["faces_found"] >= 3
    assert len(out.rows) == out.computation["faces_found"]
    assert [r[0] for r in out.rows] == list(range(1, len(out.rows) + 1))


def test_upload_without_faces_is_recorded_with_a_clear_message(ctx, user_id, no_face_scene, tmp_path):
    photo = tmp_path / "coffee.webp"
    from PIL import Image
    Image.fromarray(no_face_scene).save(photo, "WEBP")
    out = run_upload(ctx, user_id, photo, "Coffee", "", "", False)
    assert out.computation["faces_found"] == 0 and out.computation["dominant_emotion"] is None
    assert out.rows == [] and "No face was found" in out.summary
    assert out.computation["result"]["message"] == "no face found"
    assert "No face" in _pdf_text(out.pdf_path) or "no face" in _pdf_text(out.pdf_path)
    assert _user(user_id).computation_count == 1


def _truncated_jpeg(portrait) -> bytes:
    data = jpeg_bytes(portrait)
    return data[: len(data) // 3]


@pytest.mark.parametrize("name, make, message", [
    ("notes.txt", lambda p: b"just some text, not a picture\n" * 10, "cannot be analysed"),
    ("photo.jpg", lambda p: b"%PDF-1.4 not really a photo" + bytes(300), "cannot be analysed"),
    ("broken.jpg", _truncated_jpeg, "cannot be analysed"),
    ("empty.png", lambda p: b"", "cannot be analysed"),
    ("huge.bin", lambda p: b"\xff" * (2 * 1024 * 1024 + 10), "too large"),
    ("giant.png", lambda p: png_bytes(np.zeros((4000, 6000, 3), np.uint8)), "too large"),
])
def test_bad_files_give_a_clear_error_and_record_nothing(ctx, user_id, portrait, tmp_path, name, make,
                                                         message):
    path = tmp_path / name
    path.write_bytes(make(portrait))
    with pytest.raises(AppError, match=message) as info:
        run_upload(ctx, user_id, str(path), "Bad", "", "", False)
    assert str(tmp_path) not in str(info.value)  # no server paths in messages
    assert _user(user_id).computation_count == 0
    assert _files_under(Path(ctx.data_dir) / "uploads") == []


def test_upload_needs_a_photo_and_a_title(ctx, user_id, portrait, tmp_path):
    with pytest.raises(AppError, match="Choose a photo"):
        run_upload(ctx, user_id, None, "Title")
    photo = tmp_path / "p.jpg"
    photo.write_bytes(jpeg_bytes(portrait))
    with pytest.raises(AppError, match="title"):
        run_upload(ctx, user_id, photo, "   ")


def test_missing_model_is_a_clear_error(config, settings, user_id, portrait, tmp_path):
    from dataclasses import replace
    ctx = Analyses(config.data_dir, replace(settings, model_path=str(tmp_path / "nope.onnx")))
    photo = tmp_path / "p.jpg"
    photo.write_bytes(jpeg_bytes(portrait))
    with pytest.raises(AppError, match="model is not available"):
        run_upload(ctx, user_id, photo, "T")
    with pytest.raises(AppError, match="model is not available"):
        stream_frame(ctx, None, portrait)


# ------------------------------------------------------------------ live webcam + capture
def test_live_caption_timings_add_up(ctx):
    """'14 ms per frame (detect 30 ...)': the total was a median, the parts the latest frame's."""
    import re
    live = None
    for i, frame in enumerate(webcam_frames(5)):
        annotated, live = stream_frame(ctx, live, frame)
        live.analysis.timing_ms.update(detect=30.0 if i == 4 else 5.0, classify=3.0, draw=1.0)
        live.note_work(14.0)
    caption = live_caption(live)
    m = re.search(r"server (\d+) ms per frame = detect (\d+) \+ classify (\d+) \+ draw (\d+) \+ other (\d+)",
                  caption)
    assert m, caption
    total, *parts = map(int, m.groups())
    assert total == sum(parts) == 14 and parts[0] == 5, caption


def test_stream_tracks_faces_and_stores_nothing(ctx, user_id):
    live = None
    track_ids = []
    for frame in webcam_frames(12):
        annotated, live = stream_frame(ctx, live, frame)
        assert annotated.shape == frame.shape and annotated.dtype == np.uint8
        track_ids += [f.track_id for f in live.analysis.faces]
    assert isinstance(live, LiveSession) and live.frames == 12
    assert len(track_ids) >= 10 and len(set(track_ids)) == 1  # one face, one stable track
    assert "1 face" in live_caption(live) or "0 faces" in live_caption(live)
    assert _files_under(Path(ctx.data_dir) / "uploads") == []
    assert _user(user_id).computation_count == 0
    assert stream_frame(ctx, live, None) == (None, live)


def test_stream_with_several_faces_keeps_their_labels(ctx):
    from realtime.research.scenes import shrunk_group

    group = shrunk_group([70, 80, 90], size=(480, 640)).rgb  # three real portraits, webcam-sized
    live = None
    seen = []
    for _ in range(4):
        _, live = stream_frame(ctx, live, group)
        seen.append(sorted(f.track_id for f in live.analysis.faces))
    assert len(seen[-1]) >= 2, seen  # several faces at once
    assert seen[-1] == seen[1]  # same faces, same track ids, frame after frame


def test_capture_records_the_latest_frame(ctx, user_id):
    with pytest.raises(AppError, match="start the webcam"):
        capture(ctx, user_id, None)
    live = None
    frames = webcam_frames(6)
    for frame in frames:
        _, live = stream_frame(ctx, live, frame)
    out = capture(ctx, user_id, live, title="Entrance", exhibit="Hall A", notes="", consent=False)
    comp = out.computation
    assert comp["kind"] == "webcam" and comp["title"] == "Entrance" and comp["exhibit"] == "Hall A"
    assert comp["faces_found"] == len(live.analysis.faces)
    assert _user(user_id).computation_count == 1
    with db.connection():
        row = db.get_computation(user_id, comp["id"])
    from PIL import Image
    with Image.open(Path(ctx.data_dir) / row.original_path) as img:
        assert img.size == (640, 480) and img.format == "JPEG"
    text = _pdf_text(out.pdf_path)
    assert "Webcam capture" in text and "Entrance" in text
    assert json.loads(out.json_path.read_text())["result"]["faces"] == comp["result"]["faces"]
    # capturing again records a second computation
    capture(ctx, user_id, live)
    assert _user(user_id).computation_count == 2
    live.reset()
    with pytest.raises(AppError):
        capture(ctx, user_id, live)


def test_old_downloads_are_pruned(tmp_path):
    import os
    import time

    from portal.analyses.downloads import prune

    old, new = tmp_path / "1-old", tmp_path / "2-new"
    for d in (old, new):
        d.mkdir()
        (d / "x.pdf").write_bytes(b"%PDF")
    past = time.time() - 3600
    os.utime(old, (past, past))
    prune(tmp_path, 600)
    assert not old.exists() and new.exists()


def test_frame_html_is_an_inline_jpeg(portrait):
    import base64

    from portal.gradio_app.blocks import frame_html
    html = frame_html(portrait, "1 face <b>", 70)
    assert 'id="live-frame"' in html and "data:image/jpeg;base64," in html
    assert "1 face &lt;b&gt;" in html
    data = base64.b64decode(html.split("base64,", 1)[1].split('"', 1)[0])
    from PIL import Image
    assert Image.open(io.BytesIO(data)).size == (640, 480)


def test_warm_up_loads_the_models_or_logs_why_not(ctx, config, settings, tmp_path, caplog):
    from dataclasses import replace

    from portal.analyses.service import warm_up
    with caplog.at_level(logging.INFO, logger="portal.analyses.service"):
        warm_up(ctx).join(60)
        broken = Analyses(config.data_dir, replace(settings, model_path=str(tmp_path / "none.onnx")))
        warm_up(broken).join(60)
    messages = [r.getMessage() for r in caplog.records]
    assert any("warmed up" in m for m in messages)
    assert any("warm-up failed" in m and "model is not available" in m for m in messages)
