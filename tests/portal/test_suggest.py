"""The visit recommender (issue 21) on known synthetic profiles: pure, no database."""
from __future__ import annotations

import doctest

from portal.museum import suggest
from portal.museum.suggest import Reading, exhibit_profile


def _museum():
    """Two happy exhibits, two sad ones, one surprising one, one calm one; 'Garden' the happiest
    and 'Fountain' the exhibit that holds visitors longest."""
    return [exhibit_profile(1, "Clowns", {"happy": 0.5, "neutral": 0.5}, 60, 20.0),
            exhibit_profile(2, "Garden", {"happy": 0.7, "neutral": 0.3}, 60, 25.0),
            exhibit_profile(3, "Picnic", {"happy": 0.45, "neutral": 0.55}, 60, 18.0),
            exhibit_profile(4, "War", {"sad": 0.6, "neutral": 0.4}, 60, 30.0),
            exhibit_profile(5, "Requiem", {"sad": 0.5, "neutral": 0.5}, 60, 22.0),
            exhibit_profile(6, "Magic", {"surprise": 0.5, "neutral": 0.5}, 60, 15.0),
            exhibit_profile(7, "Fountain", {"neutral": 0.9, "happy": 0.1}, 60, 40.0)]


def test_doctests():
    assert doctest.testmod(suggest).failed == 0


def test_a_visitor_moved_by_happy_exhibits_gets_the_happiest_unvisited_first():
    readings = [Reading(1, {"happy": 0.8, "neutral": 0.2}, 45.0),   # smiled more, stayed longer
                Reading(4, {"sad": 0.55, "neutral": 0.45}, 10.0)]   # as sad as anyone, left early
    out = suggest.suggest(_museum(), readings)
    assert out[0]["exhibit_id"] == 2
    assert out[0]["score"] > 0
    assert "happy" in out[0]["reason"] and "Clowns" in out[0]["reason"] and "80%" in out[0]["reason"]
    assert len(out) == 3


def test_a_visitor_moved_by_sad_exhibits_gets_a_sad_one_first():
    readings = [Reading(4, {"sad": 0.9, "neutral": 0.1}, 60.0)]
    assert suggest.suggest(_museum(), readings)[0]["exhibit_id"] == 5


def test_never_a_visited_exhibit_and_at_most_three():
    profiles = _museum()
    readings = [Reading(i, {"happy": 1.0}, 30.0) for i in (1, 2, 3, 4)]
    out = suggest.suggest(profiles, readings)
    assert {s["exhibit_id"] for s in out} <= {5, 6, 7} and len(out) == 3
    assert suggest.suggest(profiles, [Reading(i, {}, 1.0) for i in range(1, 8)]) == []


def test_only_the_profiles_given_are_suggested():
    """The caller passes one organisation's exhibits: nothing else can come out, and a reading
    at an exhibit not among them (another organisation's) is ignored."""
    ours = _museum()[:3]
    out = suggest.suggest(ours, [Reading(99, {"happy": 1.0}, 30.0)])
    assert {s["exhibit_id"] for s in out} <= {1, 2, 3}


def test_diversity_keeps_near_copies_apart():
    profiles = _museum() + [exhibit_profile(8, "Garden copy", {"happy": 0.69, "neutral": 0.31}, 60, 25.0)]
    readings = [Reading(1, {"happy": 0.8, "neutral": 0.2}, 45.0)]
    plain = suggest.suggest(profiles, readings)
    assert plain[0]["exhibit_id"] in (2, 8)
    no_diversity = [c for c in suggest.pick(
        [(0.9, [1.0, 0.0], {"exhibit_id": 1}), (0.89, [1.0, 0.01], {"exhibit_id": 2}),
         (0.7, [0.0, 1.0], {"exhibit_id": 3})], top=2, diversity=0.0)]
    diverse = suggest.pick(
        [(0.9, [1.0, 0.0], {"exhibit_id": 1}), (0.89, [1.0, 0.01], {"exhibit_id": 2}),
         (0.7, [0.0, 1.0], {"exhibit_id": 3})], top=2, diversity=0.5)
    assert [c["exhibit_id"] for c in no_diversity] == [1, 2]
    assert [c["exhibit_id"] for c in diverse] == [1, 3]


def test_fallback_without_readings_is_longest_dwell_first():
    out = suggest.suggest(_museum(), [])
    assert [s["exhibit_id"] for s in out] == [7, 4, 2]
    assert "40 s" in out[0]["reason"] and out[0]["score"] == 0.0
    unmeasured = exhibit_profile(9, "New", {}, 0, None)
    assert [s["exhibit_id"] for s in suggest.suggest([unmeasured] + _museum()[:1], [])] == [1, 9]


def test_few_visitors_describe_nothing():
    few = exhibit_profile(9, "Tiny", {"happy": 1.0}, 3, 99.0)
    out = suggest.suggest(_museum()[:2] + [few], [Reading(1, {"happy": 0.9, "neutral": 0.1}, 40.0)],
                          min_visitors=5)
    assert [s["exhibit_id"] for s in out] == [2, 9]
    assert "Tiny" not in out[0]["reason"]


def test_profiles_and_readings_from_observation_rows():
    rows = [{"session_id": 1, "computation_id": None, "video_id": None, "track_id": k, "t": t,
             "emotion": "happy" if k == 1 else "sad", "probabilities": {}}
            for k in (1, 2) for t in (0.0, 10.0 * k)]
    p = suggest.profile_from_rows(5, "Five", rows, "Hall")
    assert (p.visitors, p.dwell_s, p.shares["happy"], p.location) == (2, 15.0, 0.5, "Hall")
    r = suggest.reading_from_rows(5, rows[:2] + [dict(rows[2], uncertain=True)])
    assert (r.shares["happy"], r.dwell_s) == (1.0, 10.0)
    assert suggest.reading_from_rows(5, [dict(rows[0], uncertain=True)]) is None


def test_simulated_visitors_get_their_favourite_more_often_than_baselines():
    from portal.museum import simulate_visits
    rows = simulate_visits.run(visitors=120, seed=21, museums=1, ks=(0, 4))
    assert rows == simulate_visits.run(visitors=120, seed=21, museums=1, ks=(0, 4))  # seeded
    seen0, seen4 = rows
    assert seen0["suggestions"] == seen0["longest dwell"]  # no reading: the fallback
    assert seen4["suggestions"] > max(seen4["random"], seen4["most visited"]) + 0.15
    assert "| 4 |" in simulate_visits.markdown(rows, 120, 21, 1)
