"""Issue 18, finding 8, over real HTTP: the padding attack.  A member who adds visitors they know
(photos attached through the API, whose probabilities the API answers) around one visitor of a
colleague's camera, then reads the exhibit's summary before and after, must not get that
visitor's probabilities back (before the fix: an error of 5.6e-17), nor their rows from
observations.csv."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

import db
from db import observations
from portal.museum import analytics
from tests.helpers.app import jpeg_bytes, portrait_scene

EMOTIONS = analytics.EMOTIONS
pytestmark = pytest.mark.security


@pytest.fixture
def museum_settings():
    """The defaults that matter here: 5 visitors at least, ANALYTICS_NOISE=1."""
    from portal.museum.settings import MuseumSettings

    return MuseumSettings(min_visitors=5, max_fps=1000, max_sessions=3, max_frame_bytes=1024 * 1024)


def _scene(i: int) -> bytes:
    """Photos of one face whose probabilities differ: moved, mirrored, lighter or darker."""
    frame = portrait_scene(x=120 + 40 * (i % 5), y=60 + 15 * (i % 3))
    if i % 2:
        frame = frame[:, ::-1]
    return jpeg_bytes(np.clip(frame * (0.75 + 0.1 * (i % 4)), 0, 255).astype(np.uint8))


def _vector(probs: dict) -> np.ndarray:
    return np.array([probs[e] for e in EMOTIONS])


def _target(bob, exhibit_id: int) -> np.ndarray:
    """Bob's camera sees one visitor in 3 frames; their own mean probabilities (the secret)."""
    sid = bob.post("/sessions", json={"exhibit_id": exhibit_id}).json()["id"]
    seen = []
    for t in range(3):
        r = bob.post(f"/sessions/{sid}/frames", data={"t": str(t)},
                     files={"image": ("f.jpg", _scene(7), "image/jpeg")})
        assert r.status_code == 200 and len(r.json()["faces"]) == 1, r.text
        seen.append(_vector(r.json()["faces"][0]["probabilities"]))
    assert bob.post(f"/sessions/{sid}/stop").status_code == 200
    return np.mean(seen, axis=0)


def _pad(mallory, exhibit_id: int, i: int) -> np.ndarray:
    """One known visitor: a photo attached to the exhibit; the API answers its probabilities."""
    r = mallory.post("/analyses", files={"image": ("p.jpg", _scene(i), "image/jpeg")},
                     data={"exhibit_id": str(exhibit_id), "consent": "true"})
    assert r.status_code == 201 and r.json()["faces_found"] == 1, r.text
    return _vector(r.json()["result"]["faces"][0]["probabilities"])


def _recover(mean: dict, known: list[np.ndarray]) -> np.ndarray:
    """The attack: n x the released mean - the known visitors = the remaining visitor."""
    return np.clip(_vector(mean) * (len(known) + 1) - np.sum(known, axis=0), 0, 1)


def test_padding_cannot_isolate_one_visitor(server, users):
    alice, bob, mallory = users["alice"], users["bob"], users["carol"]
    org = alice.post("/organisations", json={"name": "Louvre"}).json()
    exhibit = alice.post("/exhibits", json={"organisation_id": org["id"], "name": "Venus"}).json()["id"]
    for member in (bob, mallory):
        code = alice.post(f"/organisations/{org['id']}/invitations", json={"role": "manager"}).json()["code"]
        assert member.post(f"/invitations/{code}/accept").status_code == 200
    secret = _target(bob, exhibit)
    before = mallory.get(f"/exhibits/{exhibit}/summary").json()
    assert before["visitors"] == 1 and before["mean_probabilities"] is None  # hidden: 1 < 5

    known = [_pad(mallory, exhibit, i) for i in range(4)]  # now 5 visitors: released
    first = mallory.get(f"/exhibits/{exhibit}/summary").json()
    assert first["visitors"] == 5 and first["hidden"] is None and first["noise_scale"] == 0.2
    assert mallory.get(f"/exhibits/{exhibit}/summary").json() == first  # asking again: the same
    known.append(_pad(mallory, exhibit, 4))  # one more: a second release to difference with
    second = mallory.get(f"/exhibits/{exhibit}/summary").json()
    assert second["visitors"] == 6

    # the attack on the exact numbers (what was released before the fix) recovers the secret
    with db.connection():
        rows = observations.observation_rows(exhibit)
    exact = analytics.summarise(rows, 5)["mean_probabilities"]
    assert np.abs(_recover(exact, known) - secret).max() < 1e-6
    # on the released numbers it does not: from either release, or their average
    guesses = [_recover(first["mean_probabilities"], known[:4]),
               _recover(second["mean_probabilities"], known)]
    for guess in guesses + [np.mean(guesses, axis=0)]:
        error = np.abs(guess - secret)
        assert error.mean() > 0.05 and error.max() > 0.1, error
    # nor the dominant-emotion shares (the secret visitor's share vector is one-hot here)
    share_guess = _recover(second["emotions"], [np.eye(7)[int(np.argmax(k))] for k in known])
    assert np.abs(share_guess - np.eye(7)[int(np.argmax(secret))]).mean() > 0.05

    # and no row of bob's visitor reaches mallory's export: only her own photos
    text = mallory.get(f"/exhibits/{exhibit}/observations.csv").text
    exported = list(csv.DictReader(io.StringIO(text)))
    assert len(exported) == 5 and {r["source"] for r in exported} == {"upload"}
    assert {r["source"] for r in csv.DictReader(io.StringIO(
        bob.get(f"/exhibits/{exhibit}/observations.csv").text))} <= {"session"}
