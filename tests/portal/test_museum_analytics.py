"""Every number of an exhibit's summary is recomputed independently from the stored observations
(raw SQL + numpy) and compared; the privacy threshold hides small breakdowns; what members are
shown is noised (portal.museum.privacy) around those numbers, the same for the same visitors."""
import datetime as dt
import random

import numpy as np
import pytest

import db
from db import museum, observations
from portal.museum import analytics
from portal.museum import exports as exhibit_data
from portal.museum.privacy import Blur
from portal.museum.settings import MuseumSettings

EMOTIONS = analytics.EMOTIONS


@pytest.fixture
def database(database_url):
    real = db.init(database_url)
    with db.connection():
        yield real
    real.close()


def _probs(rng):
    p = np.array([rng.random() for _ in EMOTIONS])
    return dict(zip(EMOTIONS, (p / p.sum()).tolist()))


def _fill(exhibit, owner, rng, sessions=3, photos=2):
    """Sessions with random tracks (each seen several times) and photos with random faces."""
    for s in range(sessions):
        sess = observations.start_session(owner, exhibit.id)
        sess.started_at = dt.datetime(2026, 3, 2 + s, 9 + 3 * s, 30)  # Mon..Wed
        sess.save()
        for frame in range(40):
            t = frame * 0.5 + rng.random() * 0.1
            faces = []
            for track in range(1, 8):
                if rng.random() < 0.4:
                    probs = _probs(rng)
                    faces.append({"track_id": track, "box": [0, 0, 40 + track, 50],
                                  "emotion": max(probs, key=probs.get), "probabilities": probs})
            observations.add_session_observations(sess, t, faces)
    for _ in range(photos):
        probs = _probs(rng)
        face = {"box": [1, 1, 30, 30], "emotion": max(probs, key=probs.get), "probabilities": probs}
        comp = db.record_computation(owner_id=owner, kind="upload", title="p", consent=True,
                                     result={"faces": [face] * 3}, faces_found=3,
                                     dominant_emotion=face["emotion"], timings={}, model_version="m")
        observations.attach_computation(owner, comp, exhibit.id)


def _independent(database, exhibit_id):
    cols = ", ".join(f"p_{e}" for e in EMOTIONS)
    rows = database.execute_sql(
        f"SELECT session_id, computation_id, track_id, t, emotion, {cols} FROM observations "
        f"WHERE exhibit_id = {int(exhibit_id)}").fetchall()
    keys = [(r[0], r[1], r[2]) for r in rows]
    probs = np.array([r[5:] for r in rows], dtype=float)
    onehot = np.array([[r[4] == e for e in EMOTIONS] for r in rows], dtype=float)
    by_visitor = {}
    for (sid, cid, tid), t in zip(keys, [r[3] for r in rows]):
        if sid is not None:
            by_visitor.setdefault((sid, tid), []).append(t)
    dwell = np.array([max(v) - min(v) for v in by_visitor.values()])
    visitors = sorted(set(keys), key=str)  # each visitor weighs the same: their rows averaged first
    rows_of = [np.array([k == v for k in keys]) for v in visitors]
    shares = np.mean([onehot[mask].mean(axis=0) for mask in rows_of], axis=0)
    means = np.mean([probs[mask].mean(axis=0) for mask in rows_of], axis=0)
    return {"visitors": len(visitors), "faces": len(rows), "dwell_median": float(np.median(dwell)),
            "dwell_hist": np.histogram(dwell, bins=list(analytics.DWELL_BINS) + [1e9])[0].tolist(),
            "shares": dict(zip(EMOTIONS, shares.tolist())), "means": dict(zip(EMOTIONS, means.tolist()))}


def test_summary_numbers_match_an_independent_recomputation(database):
    owner = db.create_user("alice", "alice@example.org", "h").id
    exhibit = museum.create_exhibit(owner, museum.create_organisation(owner, "M").id, "Vase")
    _fill(exhibit, owner, random.Random(7))
    got = analytics.summarise(observations.observation_rows(exhibit.id), 5)  # exact
    want = _independent(database, exhibit.id)
    assert got["visitors"] == want["visitors"] == 3 * 7 + 2 * 3
    assert got["faces"] == want["faces"]
    assert got["dwell_s_median"] == pytest.approx(want["dwell_median"])
    assert [b["visitors"] for b in got["dwell_histogram"]] == want["dwell_hist"]
    assert got["emotions"] == pytest.approx(want["shares"])
    assert got["mean_probabilities"] == pytest.approx(want["means"])
    assert sum(got["emotions"].values()) == pytest.approx(1.0)
    # timeline: one hour bucket per session (20 s each) + the photos' hour
    assert sum(e["faces"] for e in got["timeline"]) == want["faces"]
    assert got["heatmap"]["visitors"][0][9] == 7 and got["heatmap"]["visitors"][2][15] == 7
    # what members are shown: the same counts, the shares and means noised (1/27 per value)
    settings = MuseumSettings(min_visitors=5, noise_key=b"k")
    shown = exhibit_data.exhibit_summary(exhibit, settings)
    assert (shown["visitors"], shown["faces"]) == (got["visitors"], got["faces"])
    assert shown["noise_scale"] == pytest.approx(1 / 27, abs=1e-6)
    for key in ("emotions", "mean_probabilities"):
        assert shown[key] != got[key] and sum(shown[key].values()) == pytest.approx(1.0, abs=0.01)
        assert shown[key] == pytest.approx(got[key], abs=0.2)
    assert shown == exhibit_data.exhibit_summary(exhibit, settings)  # asking again: the same noise
    assert shown["heatmap"]["visitors"] == got["heatmap"]["visitors"]


def test_small_breakdowns_are_hidden_everywhere(database):
    owner = db.create_user("alice", "alice@example.org", "h").id
    exhibit = museum.create_exhibit(owner, museum.create_organisation(owner, "M").id, "Vase")
    _fill(exhibit, owner, random.Random(1), sessions=1, photos=0)  # 7 tracks at most
    settings = MuseumSettings(min_visitors=50)
    summary = exhibit_data.exhibit_summary(exhibit, settings)
    assert summary["visitors"] > 0 and summary["hidden"] == analytics.HIDDEN
    assert summary["emotions"] is None and summary["dwell_s_median"] is None
    assert all(e["emotions"] is None for e in summary["timeline"])
    assert all(c is None for row in summary["heatmap"]["dominant"] for c in row)
    text, hidden = exhibit_data.observations_csv(exhibit, settings, owner)
    assert hidden and text.strip().splitlines() == [",".join(exhibit_data.OBSERVATION_COLUMNS)]
    assert "too few visitors to show" in exhibit_data.aggregates_csv(summary)
    assert "happy" not in exhibit_data.aggregates_csv(summary)
    text, hidden = exhibit_data.observations_csv(exhibit, MuseumSettings(min_visitors=1), owner)
    assert not hidden and len(text.strip().splitlines()) == 1 + summary["faces"]
    text, hidden = exhibit_data.observations_csv(exhibit, MuseumSettings(min_visitors=1), owner + 1)
    assert text.strip().splitlines() == [",".join(exhibit_data.OBSERVATION_COLUMNS)]  # not theirs


def test_date_range_is_local_days_inclusive_and_refuses_bad_dates():
    paris = MuseumSettings(timezone="Europe/Paris").tz
    start, end = exhibit_data.date_range("2026-03-02", "2026-03-02", paris)
    assert (start, end) == (dt.datetime(2026, 3, 1, 23), dt.datetime(2026, 3, 2, 23))
    with pytest.raises(ValueError, match="'from' must be a date"):
        exhibit_data.date_range("yesterday", None)
    with pytest.raises(ValueError, match="before"):
        exhibit_data.date_range("2026-03-03", "2026-03-02")


def test_dwell_histogram_bins():
    hist = analytics.dwell_histogram([0, 1.9, 2, 59.9, 60, 1000])
    assert [b["visitors"] for b in hist] == [2, 1, 0, 0, 1, 1, 1]
    assert hist[-1] == {"from_s": 300, "to_s": None, "visitors": 1}


def _visitor(session_id, track_id, emotion, probs, t=0.0):
    return {"session_id": session_id, "computation_id": None, "video_id": None, "track_id": track_id,
            "t": t, "emotion": emotion, "probabilities": probs,
            "observed_at": dt.datetime(2026, 3, 2, 10)}


def test_each_visitor_weighs_the_same_however_long_they_stay():
    happy = dict.fromkeys(EMOTIONS, 0.0) | {"happy": 1.0}
    sad = dict.fromkeys(EMOTIONS, 0.0) | {"sad": 1.0}
    rows = [_visitor(1, 1, "happy", happy, t) for t in range(9)] + [_visitor(1, 2, "sad", sad)]
    assert analytics.emotion_shares(rows)["happy"] == 0.5  # not 0.9
    assert analytics.mean_probabilities(rows)["sad"] == 0.5


def test_noise_is_fixed_for_the_same_visitors_and_fresh_for_others():
    rng = random.Random(3)
    rows = [_visitor(1, i, "happy", _probs(rng)) for i in range(1, 11)]
    blur = Blur(b"key", exhibit_id=4, noise=1.0)
    first = analytics.breakdown(rows, 5, blur)
    assert first == analytics.breakdown(list(reversed(rows)), 5, blur)  # same visitors, same numbers
    assert first["mean_probabilities"] != analytics.breakdown(rows, 5)["mean_probabilities"]
    padded = analytics.breakdown(rows + [_visitor(2, 1, "sad", _probs(rng))], 5, blur)
    again = analytics.breakdown(rows + [_visitor(3, 1, "sad", _probs(rng))], 5, blur)
    assert padded["mean_probabilities"] != again["mean_probabilities"]  # a new visitor: new noise
    other_key = analytics.breakdown(rows, 5, Blur(b"other", exhibit_id=4, noise=1.0))
    assert other_key["mean_probabilities"] != first["mean_probabilities"]
    assert analytics.breakdown(rows, 5, Blur(b"key", 4, noise=0.0)) == analytics.breakdown(rows, 5) | {
        "noise_scale": None}
    hist = [b["visitors"] for b in first["dwell_histogram"]]
    assert all(isinstance(n, int) and n >= 0 for n in hist)


def test_histogram_median_is_read_inside_its_bin():
    assert analytics.histogram_median([0, 4, 0, 0, 0, 0, 0]) == 3.5  # 2..5 s, half-way
    assert analytics.histogram_median([2, 2, 0, 0, 0, 0, 0]) == 2.0
    assert analytics.histogram_median([0, 0, 0, 0, 0, 0, 3]) == 300.0  # the open bin: its edge
    assert analytics.histogram_median([0] * 7) is None
