"""API cameras through the one recorder (portal.museum.recording.Recorder, issue 19): a session
started by ``POST /sessions`` is adopted on its first frame, its track ids continue after the
stored ones, frames carry the camera's ``t`` and are written at once, the frame rate and the
per-user number of cameras are limited, an idle camera loses its tracker only.  No HTTP; both
databases; a clock driven by the test."""
from __future__ import annotations

import itertools

import pytest

import db
from db import museum as museum_api, observations
from portal.museum import analytics
from portal.museum.recording import Recorder, RecordSettings, TooMany


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def face(track: int, emotion: str = "happy") -> dict:
    probs = {e: 0.0 for e in analytics.EMOTIONS}
    probs[emotion], probs["neutral"] = 0.9, 0.1
    return {"track_id": track, "box": [10, 20, 80, 76], "emotion": emotion, "probabilities": probs}


@pytest.fixture
def museum(database_url):
    """alice owns an exhibit, bob one of his own."""
    db.init(database_url)
    users = {}
    with db.connection():
        for name in ("alice", "bob"):
            uid = users[name] = db.create_user(name, f"{name}@example.org", "x-not-a-real-hash").id
            org = museum_api.create_organisation(uid, f"{name}'s museum")
            users[f"{name}_exhibit"] = museum_api.create_exhibit(uid, org.id, "Mona Lisa").id
    yield users
    db.database.obj.close()


def open_session(user_id: int, exhibit_id: int):
    """What ``POST /sessions`` does: an open session in the database, nothing in memory."""
    with db.connection():
        return observations.start_session(user_id, exhibit_id)


def stored(sess) -> list[tuple[float, int]]:
    with db.connection():
        return [(r["t"], r["track_id"]) for r in observations.observation_rows(sess.exhibit_id, session_id=sess.id)]


def make(clock, **kw) -> Recorder:
    streams = itertools.count(1)
    return Recorder(RecordSettings(min_visitors=1, sweep_every_s=0, **kw), clock=clock,
                    make_stream=lambda: f"stream {next(streams)}")


def frame(recorder: Recorder, user_id: int, sess, t: float, tracks: list[int]) -> list[dict]:
    """One API frame, as the route does it: claim, track, store."""
    rec = recorder.claim(user_id, sess)
    rows = recorder.tracked(rec, [face(i) for i in tracks], t)
    recorder.store(rec, t, rows)
    return rows


def test_an_api_session_is_adopted_and_its_track_ids_continue_after_the_stored_ones(museum):
    clock, alice = Clock(), museum["alice"]
    recorder = make(clock, api_idle_s=600)
    sess = open_session(alice, museum["alice_exhibit"])
    with db.connection():  # an earlier run of the camera (or a restarted server) stored tracks 1..3
        observations.add_session_observations(sess, 0.5, [face(1), face(3)])
    rows = frame(recorder, alice, sess, 2.25, [1, 2])
    assert [r["track_id"] for r in rows] == [4, 5]
    assert stored(sess)[-2:] == [(2.25, 4), (2.25, 5)]  # written at once, at the camera's t
    rec = recorder.get(alice, sess.id)
    assert rec.origin == "api" and rec.stream == "stream 1" and rec.last_t == 2.25
    assert recorder.running_ids() == {sess.id} and recorder.running_ids(("live", "kiosk")) == set()
    clock.now += 601  # the camera went quiet: its tracker is released, the session stays open
    assert recorder.sweep() == [] and recorder.get(alice, sess.id) is None
    with db.connection():
        assert observations.get_session(alice, sess.id).stopped_at is None
    rows = frame(recorder, alice, sess, 700.0, [1])  # a new tracker, its ids after the stored ones
    assert [r["track_id"] for r in rows] == [6] and recorder.get(alice, sess.id).stream == "stream 2"
    clock.now += 1
    frame(recorder, alice, sess, 701.5, [])  # nobody in the last frame: the duration still counts it
    summary = recorder.stop(alice, sess.id)
    assert (summary["duration_s"], summary["visitors"], summary["faces"]) == (701.5, 5, 5)
    assert recorder.get(alice, sess.id) is None


def test_an_api_camera_above_the_frame_rate_gets_retry_after(museum):
    clock, alice = Clock(), museum["alice"]
    recorder = make(clock, max_fps=0.5)
    sess = open_session(alice, museum["alice_exhibit"])
    for i in range(3):  # the burst
        frame(recorder, alice, sess, i / 10, [1])
    with pytest.raises(TooMany) as refused:
        recorder.claim(alice, sess)
    assert str(refused.value) == "too many frames for this session: at most 0.5 per second (bursts of 3)"
    assert refused.value.retry_after == 2  # one token at 0.5/s
    assert len(stored(sess)) == 3
    clock.now += 2
    assert recorder.claim(alice, sess) is recorder.get(alice, sess.id)


def test_each_user_feeds_at_most_api_per_user_cameras(museum):
    clock, alice, bob = Clock(), museum["alice"], museum["bob"]
    recorder = make(clock, api_per_user=2, max_per_user=1)
    first, second, third = (open_session(alice, museum["alice_exhibit"]) for _ in range(3))
    frame(recorder, alice, first, 0, [1])
    frame(recorder, alice, second, 0, [1])
    with pytest.raises(TooMany) as refused:
        recorder.claim(alice, third)
    assert str(refused.value) == ("you already have 2 recording sessions running (the limit is 2); "
                                  "stop one first")
    assert refused.value.retry_after == 0  # no Retry-After: a session has to stop first
    frame(recorder, bob, open_session(bob, museum["bob_exhibit"]), 0, [1])  # bob is not held up
    live = recorder.start(alice, museum["alice_exhibit"], origin="live")  # pages count apart
    assert live is not None and recorder.claim(alice, live.session) is None  # not the API's to feed
    assert recorder.stop(alice, first.id)["faces"] == 1  # frees the slot
    frame(recorder, alice, third, 0, [1])
