"""Issue 20 over real HTTP: the exhibit summary's curator measures and intervals, before/after
comparisons and rankings, with known answers from observations written straight into the
database; other organisations answer 404, bad dates and measures a clear 422 (never 500)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

import db
from db import observations
from portal.museum.analytics import EMOTIONS

MARCH_1, MARCH_20 = dt.datetime(2026, 3, 1, 10), dt.datetime(2026, 3, 20, 10)


def _face(track: int, emotion: str) -> dict:
    return {"track_id": track, "box": [0, 0, 60, 60], "emotion": emotion,
            "probabilities": {e: 0.9 if e == emotion else 0.1 / 6 for e in EMOTIONS}}


def _record(owner_id: int, exhibit_id: int, when: dt.datetime, visitors: list[tuple[str, float]]):
    """One recording session at ``when``: visitor i seen at t=0 and again at t=dwell."""
    with db.connection():
        sess = observations.start_session(owner_id, exhibit_id)
        sess.started_at = when
        sess.save()
        frames = defaultdict(list)
        for track, (emotion, dwell) in enumerate(visitors, start=1):
            frames[0.0].append(_face(track, emotion))
            if dwell > 0:
                frames[float(dwell)].append(_face(track, emotion))
        for t, faces in sorted(frames.items()):
            observations.add_session_observations(sess, t, faces)
        observations.stop_session(sess, {})


def _visitors(n: int, happy: float, stopped: float = 0.5) -> list[tuple[str, float]]:
    """``n`` visitors, a ``happy`` share of them happy (the others neutral), a ``stopped``
    share of them staying 8 s (the others 1 s)."""
    return [("happy" if i < round(happy * n) else "neutral", 8.0 if i % 10 < round(10 * stopped) else 1.0)
            for i in range(n)]


def _organisation(alice, *names):
    org = alice.post("/organisations", json={"name": "Museum"}).json()
    exhibits = [alice.post("/exhibits", json={"organisation_id": org["id"], "name": n}).json()
                for n in names]
    return org, exhibits


def test_the_summary_gains_visitors_stopped_attraction_and_intervals(users):
    alice, bob = users["alice"], users["bob"]
    org, (exhibit, empty) = _organisation(alice, "Mona Lisa", "Empty room")
    _record(org["owner_id"], exhibit["id"], MARCH_1, _visitors(40, happy=0.25, stopped=0.5))
    s = alice.get(f"/exhibits/{exhibit['id']}/summary").json()
    assert s["visitors"] == 40 and s["hidden"] is None
    assert abs(s["stopped"] - 20) <= 3 and abs(s["attraction"] - 0.5) < 0.1
    assert s["uncertain_share"] is not None and s["uncertain_share"] < 0.1
    assert set(s["ci95"]) == set(EMOTIONS)
    for e in EMOTIONS:
        low, high = s["ci95"][e]
        assert low <= s["emotions"][e] <= high
    low, high = s["ci95"]["happy"]
    assert 0.1 < high - low < 0.45  # 40 visitors: a wide interval
    m = s["measures"]
    assert m["attraction"]["ci95"][0] <= s["attraction"] <= m["attraction"]["ci95"][1]
    assert m["dwell"]["q1"] <= m["dwell"]["value"] <= m["dwell"]["q3"] and m["stop_s"] == 5.0
    nobody = alice.get(f"/exhibits/{empty['id']}/summary").json()
    assert nobody["visitors"] == 0 and nobody["ci95"] is None and nobody["attraction"] is None
    for params in ({"to": "9999-12-31"}, {"from": "0001-01-01", "to": "9999-12-31"}):
        r = alice.get(f"/exhibits/{exhibit['id']}/summary", params=params)
        assert r.status_code == 200 and r.json()["visitors"] == 40, params
    assert bob.get(f"/exhibits/{exhibit['id']}/summary").status_code == 404


def test_before_and_after_a_change_is_clear_with_many_visitors_and_not_with_few(users):
    alice = users["alice"]
    org, (big, small) = _organisation(alice, "Big hall", "Small room")
    owner = org["owner_id"]
    _record(owner, big["id"], MARCH_1, _visitors(200, happy=0.30))
    _record(owner, big["id"], MARCH_20, _visitors(200, happy=0.60))
    _record(owner, small["id"], MARCH_1, _visitors(10, happy=0.30))
    _record(owner, small["id"], MARCH_20, _visitors(10, happy=0.60))
    r = alice.get(f"/exhibits/{big['id']}/compare", params={"split": "2026-03-10"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["before"]["visitors"], out["after"]["visitors"], out["split"]) == (200, 200, "2026-03-10")
    happy = out["tests"]["happy"]
    assert set(happy) >= {"difference", "ci95", "p_value"}
    assert abs(happy["difference"] - 0.30) < 0.05 and happy["ci95"][0] > 0.15 and happy["p_value"] < 0.01
    assert happy["clear"] and happy["words"].endswith("a clear increase"), happy
    assert out["tests"]["neutral"]["words"].endswith("a clear decrease")
    assert not out["tests"]["attraction"]["clear"]  # the same stopping in both periods
    few = alice.get(f"/exhibits/{small['id']}/compare", params={"split": "2026-03-10"}).json()
    assert few["tests"]["happy"]["clear"] is False and few["tests"]["happy"]["words"].endswith("no clear change")
    assert few["tests"]["happy"]["ci95"][0] < 0 < few["tests"]["happy"]["ci95"][1]


def test_compare_refuses_bad_dates_clearly_and_scopes_like_the_summary(users):
    alice, bob = users["alice"], users["bob"]
    org, (exhibit,) = _organisation(alice, "Mona Lisa")
    _record(org["owner_id"], exhibit["id"], MARCH_1, _visitors(20, happy=0.3))
    url = f"/exhibits/{exhibit['id']}/compare"
    for params, words in (({}, "'split' is required"), ({"split": "soon"}, "'split' must be a date"),
                          ({"split": "2026-02-30"}, "'split' must be a date"),
                          ({"split": "2026-03-10", "from": "x"}, "'from' must be a date")):
        r = alice.get(url, params=params)
        assert r.status_code == 422 and words in r.json()["detail"], (params, r.text)
    for split in ("9999-12-31", "0001-01-01"):
        r = alice.get(url, params={"split": split})
        assert r.status_code == 200, r.text
        assert r.json()["tests"] is None and "too few visitors" in r.json()["hidden"]
    late = alice.get(url, params={"split": "9999-12-31"}).json()
    assert (late["before"]["visitors"], late["after"]["visitors"]) == (20, 0)
    assert "0 visitor(s) after 9999-12-31" in late["hidden"]
    assert bob.get(url, params={"split": "2026-03-10"}).status_code == 404
    assert bob.get(url, params={"split": "soon"}).status_code == 404  # not a hint that it exists
    assert alice.get("/exhibits/999999/compare", params={"split": "2026-03-10"}).status_code == 404


def test_exhibits_ranked_by_a_measure_with_intervals_and_clear_differences(users):
    alice, bob = users["alice"], users["bob"]
    org, exhibits = _organisation(alice, "Joyful", "Also joyful", "Gloomy", "Unvisited")
    owner = org["owner_id"]
    for exhibit, happy, stopped in zip(exhibits, (0.6, 0.58, 0.2), (0.8, 0.5, 0.2)):
        _record(owner, exhibit["id"], MARCH_1, _visitors(150, happy=happy, stopped=stopped))
    url = f"/organisations/{org['id']}/ranking"
    r = alice.get(url, params={"measure": "happy"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["organisation_id"] == org["id"] and out["measure"] == "happy"
    names = [e["exhibit"] for e in out["exhibits"]]
    assert names[2:] == ["Gloomy", "Unvisited"] and set(names[:2]) == {"Joyful", "Also joyful"}
    first, second, third, last = out["exhibits"]
    assert first["clearly_above_next"] is False and second["clearly_above_next"] is True
    assert last["value"] is None and last["hidden"] and last["visitors"] == 0
    for entry in (first, second, third):
        assert entry["ci95"][0] <= entry["value"] <= entry["ci95"][1]
    assert out["notes"][0].endswith("no clear difference.") and "is clearly above Gloomy" in out["notes"][1]
    attraction = alice.get(url, params={"measure": "attraction"}).json()
    assert [e["exhibit"] for e in attraction["exhibits"]] == ["Joyful", "Also joyful", "Gloomy", "Unvisited"]
    dwell = alice.get(url, params={"measure": "dwell"}).json()
    assert dwell["exhibits"][0]["exhibit"] == "Joyful" and dwell["exhibits"][0]["value"] > 5
    r = alice.get(url, params={"measure": "joy"})
    assert r.status_code == 422 and "'measure' must be one of" in r.json()["detail"]
    assert bob.get(url).status_code == 404
    assert alice.get("/organisations/999999/ranking").status_code == 404
