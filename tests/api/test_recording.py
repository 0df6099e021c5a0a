"""The web pages' recorder (portal.museum.recording): buffered flush, stop summary, sweep of abandoned and
orphaned sessions, kiosk rollover, scoping (both databases)."""
from __future__ import annotations

import datetime as _dt
import json

import pytest

import db
from db import museum as museum_api, observations
from portal.museum import analytics
from portal.museum.recording import Recorder, RecordSettings, TooMany
from tests.helpers.api import make_user


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def face(track: int, emotion: str = "happy", size: int = 80) -> dict:
    probs = {e: 0.0 for e in analytics.EMOTIONS}
    probs[emotion] = 0.9
    probs["neutral"] = probs["neutral"] + 0.1 if emotion != "neutral" else 1.0
    return {"track_id": track, "box": [10, 20, size, size - 4], "emotion": emotion,
            "probabilities": probs}


@pytest.fixture
def museum(config):
    """alice owns an organisation with an exhibit; bob is a stranger."""
    from portal.web.factory import create_app

    create_app(config)  # initialises and migrates the database
    alice, bob = make_user(config, "alice"), make_user(config, "bob")
    with db.connection():
        org = museum_api.create_organisation(alice, "Museum")
        exhibit = museum_api.create_exhibit(alice, org.id, "Mona Lisa", "Room 1")
        other = museum_api.create_exhibit(alice, org.id, "Old", "Room 2")
        museum_api.update_exhibit(alice, other.id, archived=True)
    yield {"alice": alice, "bob": bob, "exhibit": exhibit.id, "archived": other.id}
    db.database.obj.close()


def stored(session_id: int, exhibit_id: int) -> list[dict]:
    with db.connection():
        return observations.observation_rows(exhibit_id, session_id=session_id)


def make(clock, **kw) -> Recorder:
    return Recorder(RecordSettings(min_visitors=1, sweep_every_s=0, **kw), clock=clock)


def test_observations_are_buffered_then_flushed_after_flush_s(museum):
    clock = Clock()
    rec_r = make(clock, flush_s=10, flush_rows=1000)
    rec = rec_r.start(museum["alice"], museum["exhibit"])
    for dt in (1.0, 2.5):
        clock.now += dt if dt == 1.0 else 1.5
        rec_r.add(rec, [face(1), face(2, "sad")], stream_key=7)
    assert stored(rec.id, museum["exhibit"]) == []  # nothing written yet: buffered
    clock.now = 1010.0
    rec_r.add(rec, [face(1)], stream_key=7)
    rows = stored(rec.id, museum["exhibit"])
    assert [(r["t"], r["track_id"], r["emotion"]) for r in rows] == [
        (1.0, 1, "happy"), (1.0, 2, "sad"), (2.5, 1, "happy"), (2.5, 2, "sad"), (10.0, 1, "happy")]
    assert rows[0]["face_size"] == 80 and rows[0]["probabilities"]["happy"] == pytest.approx(0.9)
    assert rows[0]["observed_at"] == rec.session.started_at + _dt.timedelta(seconds=1)


def test_observations_are_flushed_after_flush_rows(museum):
    clock = Clock()
    rec_r = make(clock, flush_s=1e9, flush_rows=3)
    rec = rec_r.start(museum["alice"], museum["exhibit"])
    rec_r.add(rec, [face(1), face(2)])
    assert stored(rec.id, museum["exhibit"]) == []
    rec_r.add(rec, [face(1), face(2)])
    assert len(stored(rec.id, museum["exhibit"])) == 4


def test_a_restarted_stream_gets_new_track_ids(museum):
    clock = Clock()
    rec_r = make(clock, flush_rows=1)
    rec = rec_r.start(museum["alice"], museum["exhibit"])
    rec_r.add(rec, [face(1), face(3)], stream_key=1)
    rec_r.add(rec, [face(1)], stream_key=2)  # the browser's stream restarted: its ids restart at 1
    assert [r["track_id"] for r in stored(rec.id, museum["exhibit"])] == [1, 3, 4]


def test_stop_flushes_and_stores_the_summary_the_api_would(museum):
    clock = Clock()
    rec_r = make(clock, flush_s=1e9, flush_rows=1000)
    rec = rec_r.start(museum["alice"], museum["exhibit"])
    for i in range(6):
        clock.now += 2.0
        rec_r.add(rec, [face(1, "happy"), face(2, "sad")] if i < 3 else [face(1, "happy")])
    clock.now += 2.0
    rec_r.add(rec, [])  # a last frame with nobody: the duration still counts it
    summary = rec_r.stop(museum["alice"], rec.id)
    rows = stored(rec.id, museum["exhibit"])
    assert len(rows) == 9  # the buffer was written at stop
    assert summary == analytics.session_summary(rows, 14.0, 1)
    assert summary["visitors"] == 2 and summary["faces"] == 9 and summary["duration_s"] == 14.0
    assert summary["dwell_s_median"] == pytest.approx(7.0)  # dwell 10 s and 4 s
    with db.connection():
        sess = observations.get_session(museum["alice"], rec.id)
    assert sess.stopped_at is not None and json.loads(sess.summary_json) == summary
    assert rec_r.get(museum["alice"], rec.id) is None
    assert rec_r.stop(museum["alice"], rec.id) is None  # once only


def test_sweep_closes_an_abandoned_recording_with_its_buffer(museum):
    clock = Clock()
    rec_r = make(clock, flush_s=1e9, flush_rows=1000, abandon_s=300)
    rec = rec_r.start(museum["alice"], museum["exhibit"])
    busy = rec_r.start(museum["alice"], museum["exhibit"])
    clock.now += 5
    rec_r.add(rec, [face(1)])
    clock.now += 299
    rec_r.add(busy, [face(1)])
    assert rec_r.sweep() == []
    clock.now += 2  # 301 s without a frame
    assert rec_r.sweep() == [rec.id]
    assert len(stored(rec.id, museum["exhibit"])) == 1
    with db.connection():
        sess = observations.get_session(museum["alice"], rec.id)
        assert sess.stopped_at is not None and json.loads(sess.summary_json)["faces"] == 1
        assert observations.get_session(museum["alice"], busy.id).stopped_at is None
    assert rec_r.get(museum["alice"], busy.id) is not None


def test_sweep_closes_sessions_a_crash_left_open(museum):
    clock = Clock()
    rec_r = make(clock, orphan_s=3600)
    old = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None) - _dt.timedelta(hours=3)
    with db.connection():
        crashed = observations.start_session(museum["alice"], museum["exhibit"])
        crashed.started_at = old
        crashed.save()
        observations.add_session_observations(crashed, 60.0, [face(1)])  # 2 h 59 min ago
        recent = observations.start_session(museum["alice"], museum["exhibit"])
        fed = observations.start_session(museum["alice"], museum["exhibit"])
        fed.started_at = old
        fed.save()
        observations.add_session_observations(fed, 0.0, [face(1)],
                                              observed_at=old + _dt.timedelta(hours=2.5))
    assert rec_r.sweep() == [crashed.id]
    with db.connection():
        sess = observations.get_session(museum["alice"], crashed.id)
        assert sess.stopped_at is not None
        assert json.loads(sess.summary_json)["duration_s"] == 60.0
        assert observations.get_session(museum["alice"], recent.id).stopped_at is None
        assert observations.get_session(museum["alice"], fed.id).stopped_at is None


def test_kiosk_sessions_roll_over(museum):
    clock = Clock()
    rec_r = make(clock, rollover_s=3600, flush_rows=1)
    rec = rec_r.start(museum["alice"], museum["exhibit"], origin="kiosk")
    rec_r.add(rec, [face(1)])
    clock.now += 3599
    assert rec_r.rollover(rec) is rec
    clock.now += 1
    nxt = rec_r.rollover(rec)
    assert nxt.id != rec.id and nxt.origin == "kiosk" and nxt.exhibit_id == museum["exhibit"]
    with db.connection():
        assert observations.get_session(museum["alice"], rec.id).stopped_at is not None


def test_only_the_users_own_recordings_at_their_exhibits(museum):
    clock = Clock()
    rec_r = make(clock, max_per_user=2)
    assert rec_r.start(museum["bob"], museum["exhibit"]) is None  # not a member
    assert rec_r.start(museum["alice"], museum["archived"]) is None
    assert rec_r.start(museum["alice"], "1 OR 1=1") is None
    rec = rec_r.start(museum["alice"], museum["exhibit"])
    assert rec_r.get(museum["bob"], rec.id) is None
    assert rec_r.stop(museum["bob"], rec.id) is None
    assert rec_r.get(museum["alice"], rec.id) is rec
    rec_r.start(museum["alice"], museum["exhibit"])
    with pytest.raises(TooMany, match="2 recordings running"):
        rec_r.start(museum["alice"], museum["exhibit"])
    with pytest.raises(ValueError, match="origin"):
        rec_r.start(museum["bob"], museum["exhibit"], origin="camera")


def test_a_failed_flush_keeps_the_rows_for_the_next_one(museum, monkeypatch):
    clock = Clock()
    rec_r = make(clock, flush_rows=1)
    rec = rec_r.start(museum["alice"], museum["exhibit"])
    real = observations.add_session_observations

    def down(*a, **kw):
        raise db.base.pw.OperationalError("database is locked")
    monkeypatch.setattr(observations, "add_session_observations", down)
    rec_r.add(rec, [face(1)])
    assert rec.pending_faces == 1
    monkeypatch.setattr(observations, "add_session_observations", real)
    rec_r.add(rec, [face(2)])
    assert [r["track_id"] for r in stored(rec.id, museum["exhibit"])] == [1, 2]


def test_the_background_sweeper_closes_abandoned_recordings(museum):
    import time

    clock = Clock()
    rec_r = Recorder(RecordSettings(min_visitors=1, abandon_s=300, sweep_every_s=0.05), clock=clock)
    rec = rec_r.start(museum["alice"], museum["exhibit"])
    rec_r.add(rec, [face(1)])
    thread = rec_r.start_sweeper()
    try:
        assert rec_r.start_sweeper() is thread  # one per recorder
        time.sleep(0.3)
        assert rec_r.get(museum["alice"], rec.id) is rec  # still fed recently
        clock.now += 301
        deadline = time.time() + 10
        while rec_r.get(museum["alice"], rec.id) is not None and time.time() < deadline:
            time.sleep(0.05)
    finally:
        rec_r.stop_sweeper()
    assert not thread.is_alive()
    with db.connection():
        assert observations.get_session(museum["alice"], rec.id).stopped_at is not None
    assert len(stored(rec.id, museum["exhibit"])) == 1
