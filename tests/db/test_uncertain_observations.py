"""Migration 7: observations.uncertain. Old observations are marked by the rule of their time
(top probability below 0.5); new ones carry the engine's mark from the face they come from, and the
exhibit's summary, exports and chart count them apart."""
import csv
import io

import pytest

import db
from db import museum as m
from db import observations as obs
from portal.museum import charts
from portal.museum import exports as exhibit_data
from portal.museum.settings import MuseumSettings

from .conftest import database_at

DOUBTFUL = {"angry": 0.05, "disgust": 0.05, "fear": 0.35, "happy": 0.1, "sad": 0.1, "surprise": 0.05, "neutral": 0.3}
SURE = {"angry": 0.0, "disgust": 0.0, "fear": 0.1, "happy": 0.7, "sad": 0.0, "surprise": 0.1, "neutral": 0.1}


def _insert_observation(real, exhibit_id: int, track: int, probs: dict) -> None:
    columns = ", ".join(f"p_{e}" for e in probs)
    values = ", ".join(str(p) for p in probs.values())
    real.execute_sql("INSERT INTO observations (exhibit_id, source, t, observed_at, track_id, emotion, face_size, "
                     f"{columns}) VALUES ({exhibit_id}, 'upload', 0.0, '2025-01-01 00:00:00', {track}, 'fear', 40, "
                     f"{values})")


def test_migration_7_marks_old_doubtful_observations(database_url):
    real = database_at(database_url, 6)
    with db.connection():
        owner = db.create_user("alice", "alice@example.org", "h").id  # tables older than migration 7
        exhibit = m.create_exhibit(owner, m.create_organisation(owner, "M").id, "Vase")
        _insert_observation(real, exhibit.id, 1, DOUBTFUL)
        _insert_observation(real, exhibit.id, 2, SURE)
        _insert_observation(real, exhibit.id, 3, {**SURE, "happy": 0.5, "fear": 0.2, "sad": 0.1})
    db.init(database_url)
    with db.connection():
        assert db.current_version(real) == db.LATEST_VERSION >= 7
        rows = obs.observation_rows(exhibit.id)
        assert [(r["track_id"], r["uncertain"]) for r in rows] == [(1, True), (2, False), (3, False)]  # 0.5: an answer


def test_new_observations_carry_the_faces_mark(database):
    alice = db.create_user("alice", "alice@example.org", "h").id
    exhibit = m.create_exhibit(alice, m.create_organisation(alice, "Louvre").id, "Mona Lisa")
    sess = obs.start_session(alice, exhibit.id)
    faces = [{"track_id": 1, "box": [0, 0, 40, 40], "emotion": "fear", "uncertain": True, "probabilities": DOUBTFUL},
             {"track_id": 2, "box": [50, 0, 40, 40], "emotion": "happy", "uncertain": False, "probabilities": SURE},
             {"track_id": 3, "box": [99, 0, 40, 40], "emotion": "happy", "probabilities": SURE}]  # from an older client
    assert obs.add_session_observations(sess, 0.0, faces) == 3
    assert [r["uncertain"] for r in obs.observation_rows(exhibit.id)] == [True, False, False]


def test_a_photos_doubtful_faces_feed_the_exhibit_apart(database):
    owner = db.create_user("alice", "alice@example.org", "h").id
    exhibit = m.create_exhibit(owner, m.create_organisation(owner, "M").id, "Vase")
    faces = ([{"box": [1, 1, 30, 30], "emotion": "fear", "confidence": 0.35, "uncertain": True,
               "probabilities": DOUBTFUL}] * 2 + [{"box": [1, 1, 30, 30], "emotion": "happy", "confidence": 0.88,
                                                   "uncertain": False, "probabilities": SURE}] * 4)
    comp = db.record_computation(owner_id=owner, kind="upload", title="p", consent=True, result={"faces": faces},
                                 faces_found=6, dominant_emotion="happy", timings={}, model_version="m")
    assert obs.attach_computation(owner, comp, exhibit.id) is not None
    rows = obs.observation_rows(exhibit.id)
    assert [r["uncertain"] for r in rows] == [True, True, False, False, False, False]
    exact = MuseumSettings(min_visitors=5, noise=0.0)
    summary = exhibit_data.exhibit_summary(exhibit, exact)
    assert summary["uncertain_share"] == pytest.approx(2 / 6, abs=1e-3) and summary["emotions"]["fear"] == 0.0
    text, hidden = exhibit_data.observations_csv(exhibit, exact, owner)
    assert not hidden and [r["uncertain"] for r in csv.DictReader(io.StringIO(text))] == ["1", "1", "0", "0", "0", "0"]
    assert "uncertain_share,,0.333" in exhibit_data.aggregates_csv(summary)
    assert b"uncertain" in charts.render(summary, "emotions")
