"""Opted-in visits over HTTP (issue 21): a member starts a visit, sessions started with its code
count for it, the code alone gets suggestions and deletes everything; wrong, expired and other
organisations' codes answer 404; guessing is rate-limited per client address."""
from __future__ import annotations

import datetime as _dt
import re

import pytest

import db
from db import visits as visit_table
from db.observations import Observation, RecordingSession

CODE_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


@pytest.fixture
def config_overrides() -> dict:
    """4 visit-code guesses per client address (also imported by test_visit_*.py)."""
    return {"visit_guess_limit": "4 per 10 minutes"}


def _face(track: int, emotion: str) -> dict:
    probs = {e: 0.0 for e in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")}
    probs[emotion] = 0.9
    probs["neutral" if emotion != "neutral" else "sad"] += 0.1
    return {"track_id": track, "box": (0, 0, 80, 80), "emotion": emotion, "probabilities": probs}


def _record(session_id: int, tracks: dict[int, tuple[list[str], float]]) -> None:
    """Each track's emotions, one frame apart, spread over its dwell seconds."""
    from db import observations
    with db.connection():
        sess = RecordingSession.get_by_id(session_id)
        for track, (emotions, dwell) in tracks.items():
            for i, emotion in enumerate(emotions):
                t = dwell * i / max(1, len(emotions) - 1)
                observations.add_session_observations(sess, t, [_face(track, emotion)])


def _exhibit(client, org_id: int, name: str, crowd: list[tuple[list[str], float]]) -> int:
    eid = client.post("/exhibits", json={"organisation_id": org_id, "name": name,
                                         "location": f"Room {name[0]}"}).json()["id"]
    sess = client.post("/sessions", json={"exhibit_id": eid})
    assert sess.status_code == 201, sess.text
    _record(sess.json()["id"], {k: v for k, v in enumerate(crowd, 1)})
    return eid


def _museum(alice) -> tuple[int, dict[str, int]]:
    org = alice.post("/organisations", json={"name": "Orangerie"}).json()["id"]
    happy, calm = ["happy", "neutral"], ["neutral", "neutral"]
    ids = {"Clowns": _exhibit(alice, org, "Clowns", [(happy, 20.0)] * 4),
           "Garden": _exhibit(alice, org, "Garden", [(["happy"] * 3 + ["neutral"], 20.0)] * 4),
           "War": _exhibit(alice, org, "War", [(["sad", "neutral"], 30.0)] * 4),
           "Fountain": _exhibit(alice, org, "Fountain", [(calm, 60.0)] * 4)}
    return org, ids


def _start(client, org_id: int):
    r = client.post("/visits", json={"organisation_id": org_id})
    assert r.status_code == 201, r.text
    return r.json()


def test_visit_suggestions_and_deletion(users, anon):
    alice = users["alice"]
    org, ids = _museum(alice)
    visit = _start(alice, org)
    assert CODE_RE.match(visit["code"]) and visit["url"].endswith(f"/visit/{visit['code']}")
    assert visit["expires_at"].endswith("T00:00:00Z")  # the end of the day (UTC here)
    first = anon.get(f"/visits/{visit['code']}/suggestions")  # no token: the code
    assert first.status_code == 200, first.text
    assert first.json()["visited"] == []
    assert [s["exhibit_id"] for s in first.json()["suggestions"]] == [ids["Fountain"], ids["War"], ids["Clowns"]]
    sess = alice.post("/sessions", json={"exhibit_id": ids["Clowns"], "visit_code": visit["code"].lower()})
    assert sess.status_code == 201, sess.text
    _record(sess.json()["id"], {1: (["happy"] * 4, 50.0)})  # smiled all along, stayed long
    out = anon.get(f"/visits/{visit['code']}/suggestions").json()
    assert out["visited"] == [ids["Clowns"]]
    assert out["suggestions"][0]["exhibit_id"] == ids["Garden"]
    assert set(out["suggestions"][0]) == {"exhibit_id", "name", "location", "score", "reason"}
    assert "Clowns" in out["suggestions"][0]["reason"] and out["suggestions"][0]["location"] == "Room G"
    assert ids["Clowns"] not in [s["exhibit_id"] for s in out["suggestions"]] and len(out["suggestions"]) <= 3
    assert anon.delete(f"/visits/{visit['code']}").status_code == 204
    assert anon.get(f"/visits/{visit['code']}/suggestions").status_code == 404
    assert anon.delete(f"/visits/{visit['code']}").status_code == 404
    with db.connection():
        assert visit_table.Visit.select().count() == 0 and visit_table.VisitSession.select().count() == 0
        assert RecordingSession.get_or_none(RecordingSession.id == sess.json()["id"]) is None
        assert Observation.select().where(Observation.session == sess.json()["id"]).count() == 0
        assert Observation.select().count() == 3 * 4 * 2 + 4 * 4  # the other visitors' are kept


def test_scoping_and_expiry(users, anon, monkeypatch):
    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    org, ids = _museum(alice)
    bob_org = bob.post("/organisations", json={"name": "Prado"}).json()["id"]
    bob_exhibit = bob.post("/exhibits", json={"organisation_id": bob_org, "name": "Goya"}).json()["id"]
    assert carol.post("/visits", json={"organisation_id": org}).status_code == 404  # not a member
    for body in ({}, {"organisation_id": "x"}, {"organisation_id": org, "extra": 1}):
        assert alice.post("/visits", json=body).status_code == 422
    visit = _start(alice, org)
    r = bob.post("/sessions", json={"exhibit_id": bob_exhibit, "visit_code": visit["code"]})
    assert r.status_code == 404 and "visit" in r.json()["detail"]  # useless at another museum
    with db.connection():
        assert RecordingSession.select().where(RecordingSession.exhibit == bob_exhibit).count() == 0
    bob_visit = _start(bob, bob_org)
    out = anon.get(f"/visits/{bob_visit['code']}/suggestions").json()
    assert [s["exhibit_id"] for s in out["suggestions"]] == [bob_exhibit]  # never alice's exhibits
    import portal.api.visits as visits_api
    later = _dt.datetime.fromisoformat(visit["expires_at"].rstrip("Z")) + _dt.timedelta(seconds=1)
    monkeypatch.setattr(visits_api, "clock", lambda: later)
    assert anon.get(f"/visits/{visit['code']}/suggestions").status_code == 404  # expired
    assert alice.post("/sessions", json={"exhibit_id": ids["War"], "visit_code": visit["code"]}).status_code == 404
    _start(alice, org)  # starting a visit deletes the expired ones
    with db.connection():
        assert visit_table.Visit.select().count() == 1


def test_guessing_is_rate_limited(users, anon):
    alice = users["alice"]
    org = alice.post("/organisations", json={"name": "Tate"}).json()["id"]
    visit = _start(alice, org)
    for guess in ("AAAA-AAAA-AAAA", "not a code", "B" * 40, "0000-0000-0001"):
        assert anon.get(f"/visits/{guess}/suggestions").status_code == 404
    r = anon.get(f"/visits/{visit['code']}/suggestions")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0  # even the right one now
    assert anon.delete(f"/visits/{visit['code']}").status_code == 429
    with db.connection():
        assert visit_table.Visit.select().count() == 1


def test_expired_visits_are_deleted_by_the_schedule_without_a_new_visit(users):
    """The expiry sweep (run.py starts it) deletes an expired visit although nobody starts another one."""
    import time

    from portal.museum.visits import start_expiry

    org, _ = _museum(users["alice"])
    visit = _start(users["alice"], org)
    later = _dt.datetime.fromisoformat(visit["expires_at"].rstrip("Z")) + _dt.timedelta(seconds=1)
    stop = start_expiry(every_s=0.05, clock=lambda: later)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with db.connection():
                if visit_table.Visit.select().count() == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("the expired visit was not deleted by the schedule")
    finally:
        stop.set()

