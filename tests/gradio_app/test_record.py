"""Record on the live page and "attach to an exhibit" on the upload tab, through the Gradio
handlers (the user is the request's, as the mounted app sees it)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

import db
from db import museum as museum_api, observations
from portal.museum.recording import Recorder, RecordSettings
from tests.helpers.app import jpeg_bytes


def req(user_id):
    return SimpleNamespace(username=str(user_id), cookies={}, query_params={})


@pytest.fixture
def museum(flask_app, user_id):
    with db.connection():
        bob = db.create_user("bob", "bob@example.org", "x-not-a-real-hash").id
        org = museum_api.create_organisation(user_id, "Louvre")
        exhibit = museum_api.create_exhibit(user_id, org.id, "Mona Lisa", "Salle 711")
        old = museum_api.create_exhibit(user_id, org.id, "Gone")
        museum_api.update_exhibit(user_id, old.id, archived=True)
        bobs = museum_api.create_exhibit(bob, museum_api.create_organisation(bob, "Prado").id, "Meninas")
    return SimpleNamespace(alice=user_id, bob=bob, exhibit=exhibit.id, archived=old.id, bobs=bobs.id)


@pytest.fixture
def handlers(ctx, flask_app):
    from portal.gradio_app.blocks import Handlers

    recorder = Recorder(RecordSettings(min_visitors=1, flush_rows=1, sweep_every_s=0))
    return Handlers(ctx, flask_app, recorder)


def test_exhibit_choices_are_the_users_live_ones(handlers, museum):
    live, upload, state, status = handlers.on_load_record(req(museum.alice))
    assert live.choices == upload.choices == [("Louvre · Mona Lisa (Salle 711)", museum.exhibit)]
    assert state is None and "Not recording" in status
    assert handlers.on_load_record(req(museum.bob))[0].choices == [("Prado · Meninas", museum.bobs)]


def test_record_live_frames_then_stop(handlers, museum, portrait):
    alice = req(museum.alice)
    sid, status = handlers.on_record(museum.exhibit, None, alice)
    assert isinstance(sid, int) and "Recording" in status and "Mona Lisa" in status
    live = None
    for _ in range(3):
        view, live = handlers.on_frame(portrait, live, sid, alice)
        assert "live-frame" in view
    assert "3 frame(s), 3 face observation(s)" in handlers.on_record_tick(sid, alice)
    rows = observations.observation_rows(museum.exhibit, session_id=sid)
    assert len(rows) == 3 and {r["track_id"] for r in rows} == {1}
    assert all(sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-3) for r in rows)
    # another user's handler calls cannot feed or stop alice's recording
    handlers.on_frame(portrait, None, sid, req(museum.bob))
    assert len(observations.observation_rows(museum.exhibit, session_id=sid)) == 3
    assert handlers.on_record_stop(sid, req(museum.bob))[1].startswith("Not recording")
    assert "frame(s)" not in str(handlers.on_record_tick(sid, req(museum.bob)))  # no counts for bob
    # a reloaded tab finds the user's running recording again
    assert handlers.on_load_record(alice)[2] == sid
    state, text = handlers.on_record_stop(sid, alice)
    assert state is None
    assert text.startswith("**Recording saved:**") and "1 visitor(s), 3 face observation(s)" in text
    with db.connection():
        assert observations.get_session(museum.alice, sid).stopped_at is not None
    handlers.on_frame(portrait, live, sid, alice)  # stopped: nothing more is stored
    assert len(observations.observation_rows(museum.exhibit, session_id=sid)) == 3


@pytest.mark.parametrize("which, message", [("archived", "not available"), ("bobs", "not available"),
                                            (None, "Choose an exhibit")])
def test_record_refusals(handlers, museum, which, message, monkeypatch):
    warnings = []
    monkeypatch.setattr("gradio.Warning", lambda text, *a, **k: warnings.append(text))
    exhibit = getattr(museum, which) if which else None
    state, _ = handlers.on_record(exhibit, None, req(museum.alice))
    assert state is None and message in warnings[0]
    with db.connection():
        assert observations.exhibit_sessions(museum.exhibit) == []


def test_upload_attached_to_an_exhibit(handlers, museum, portrait, tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr("gradio.Warning", lambda text, *a, **k: warnings.append(text))
    handlers.ctx.upload_dir = tmp_path / "gradio-uploads"  # only files Gradio received are read
    photo = tmp_path / "gradio-uploads" / "a1" / "visitors.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(jpeg_bytes(portrait))
    out = handlers.on_upload(str(photo), "Visitors", "", "", False, museum.exhibit, req(museum.alice))
    summary = out[2]
    assert "Saved as computation #1" in summary and "Attached to the exhibit **Mona Lisa**" in summary
    with db.connection():
        rows = observations.observation_rows(museum.exhibit)
        assert observations.attached_exhibit(1).id == museum.exhibit
    assert len(rows) == 1 and rows[0]["computation_id"] == 1 and rows[0]["source"] == "upload"
    photo.parent.mkdir(parents=True, exist_ok=True)  # the analysed upload was removed from the cache
    photo.write_bytes(jpeg_bytes(portrait))
    out = handlers.on_upload(str(photo), "Elsewhere", "", "", False, museum.bobs, req(museum.alice))
    assert "Saved as computation #2" in out[2] and "could not be attached" in out[2] and warnings
    with db.connection():
        assert observations.attached_exhibit(2) is None
        assert observations.observation_rows(museum.bobs) == []


def test_the_live_page_has_one_clearly_labelled_button_per_action(config, flask_app, settings):
    """Issue 20: the museum recording's buttons say what they do and no two buttons share a
    label (it had Record/Stop beside the webcam's own start/stop)."""
    from portal.gradio_app.blocks import build_blocks

    demo = build_blocks(config, flask_app=flask_app, settings=settings)
    buttons = {c["props"].get("elem_id"): c["props"].get("value") for c in demo.get_config_file()["components"]
               if c["type"] in ("button", "downloadbutton") and c["props"].get("visible", True) is not False}
    assert buttons["record-start"] == "Start recording at exhibit"
    assert buttons["record-stop"] == "Stop recording at exhibit"
    labels = [v for v in buttons.values() if v]
    assert len(labels) == len(set(labels)), labels
    assert not {"Record", "Stop"} & set(labels)
