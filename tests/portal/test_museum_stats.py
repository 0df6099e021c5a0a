"""Curator measures with known answers (issue 20): synthetic visitors whose truth is known.
Intervals cover the truth about 95 % of the time, a before/after difference is clear with 200
visitors per period and not with 10, one visitor seen many times is still one visitor, and
what members are shown stays centred on the noised numbers."""
from __future__ import annotations

import doctest

import numpy as np
import pytest

from portal.museum import analytics
from portal.museum import curator, published, stats
from portal.museum.curator import sighting

RESAMPLES = 400  # enough for the tests, fast on a shared machine


def _period(n: int, happy: float, rng, first_track: int = 1, session: int = 1) -> list[dict]:
    """``n`` visitors, each seen 1..12 times one second apart; a visitor's propensity to look
    happy is drawn around ``happy`` (so their sightings are correlated) and each sighting is
    happy with that propensity."""
    rows = []
    for track in range(first_track, first_track + n):
        propensity = rng.beta(4 * happy, 4 * (1 - happy))
        for k in range(int(rng.integers(1, 13))):
            emotion = "happy" if rng.random() < propensity else "neutral"
            rows.append(sighting(track, emotion, t=float(k), session=session))
    return rows


def test_the_modules_examples_hold():
    for module in (stats, curator):
        assert doctest.testmod(module).failed == 0


def test_a_clear_difference_with_200_visitors_per_period_and_not_with_10():
    rng = np.random.default_rng(1)
    for n, clear in ((200, True), (10, False)):
        before = curator.visitors(_period(n, 0.3, rng))
        after = curator.visitors(_period(n, 0.55, rng))
        tests = curator.compare(before, after, resamples=RESAMPLES)
        happy = tests["happy"]
        assert happy["clear"] is clear, (n, happy)
        assert happy["ci95"][0] <= happy["difference"] <= happy["ci95"][1]
        if clear:
            assert happy["p_value"] < 0.01 and happy["ci95"][0] > 0
            assert happy["words"].startswith("Happy: ") and happy["words"].endswith("a clear increase")
            assert tests["neutral"]["words"].endswith("a clear decrease")
        else:
            assert happy["words"].endswith("no clear change")
        assert not tests["angry"]["clear"]  # never seen: 0% -> 0%


def test_no_change_is_rarely_called_clear():
    rng = np.random.default_rng(2)
    calls = [curator.compare(curator.visitors(_period(60, 0.4, rng)),
                             curator.visitors(_period(60, 0.4, rng)), resamples=200)
             for _ in range(10)]
    assert sum(t["happy"]["clear"] for t in calls) <= 1
    assert sum(any(m["clear"] for m in t.values()) for t in calls) <= 2  # Holm over all measures


@pytest.mark.parametrize("n", [100, 15])
def test_the_interval_covers_the_true_share_about_95_percent_of_the_time(n):
    """200 seeded repetitions: per-visitor shares from correlated sightings, true mean 0.3.
    With 15 visitors the Wilson floor keeps the interval honest."""
    rng, truth, hits = np.random.default_rng(3), 0.3, 0
    for _ in range(200):
        propensity = rng.beta(4 * truth, 4 * (1 - truth), size=n)
        seen = rng.integers(1, 13, size=n)
        shares = rng.binomial(seen, propensity) / seen
        _, low, high = stats.mean_interval(shares, resamples=RESAMPLES, seed=int(rng.integers(1 << 30)))
        hits += low[0] <= truth <= high[0]
    assert 0.90 <= hits / 200 <= 0.99


def test_one_visitor_seen_many_times_is_still_one_visitor():
    once = [sighting(track, "happy" if track <= 3 else "neutral") for track in range(1, 11)]
    often = [sighting(track, r["emotion"], t=float(k)) for r in once for track in [r["track_id"]]
             for k in range(50)]
    many = [sighting(track, "happy" if track % 10 < 3 else "neutral") for track in range(500)]
    ci = {name: curator.measures(curator.visitors(rows), resamples=RESAMPLES)["emotions"]["happy"]["ci95"]
          for name, rows in (("once", once), ("often", often), ("many", many))}
    assert ci["once"] == ci["often"]  # 500 sightings of 10 visitors: the same 10 visitors
    width = {name: high - low for name, (low, high) in ci.items()}
    assert width["once"] > 0.4 and width["many"] < 0.1


def test_measures_know_their_answers_and_keep_uncertain_faces_apart():
    rows = []
    for track, dwell in enumerate([0.0, 2.0, 6.0, 10.0, 20.0], start=1):
        rows += [sighting(track, "happy", t=0.0), sighting(track, "sad", t=dwell / 2),
                 sighting(track, "surprise", t=dwell, uncertain=True)]
    rows.append(sighting(1, "neutral", session=None))  # a photo face: no dwell
    legacy = sighting(2, "neutral", session=None)
    del legacy["uncertain"]  # rows without the flag are certain
    rows.append(legacy | {"computation_id": 2})
    m = curator.measures(curator.visitors(rows), stop_s=5.0, resamples=RESAMPLES)
    assert (m["visitors"], m["tracked"], m["stopped"]) == (7, 5, 3)
    assert m["attraction"]["value"] == 0.6
    assert (m["dwell"]["value"], m["dwell"]["q1"], m["dwell"]["q3"]) == (6.0, 2.0, 10.0)
    assert m["uncertain"]["value"] == pytest.approx(5 / 3 / 7, abs=1e-4)
    assert m["emotions"]["surprise"]["value"] == 0.0  # uncertain faces count in no emotion
    assert m["emotions"]["happy"]["value"] == pytest.approx(5 / 3 / 7, abs=1e-4)
    assert m["expressive"]["value"] == pytest.approx(10 / 3 / 7, abs=1e-4)
    assert sum(e["value"] for e in m["emotions"].values()) + m["uncertain"]["value"] == pytest.approx(1, abs=1e-3)
    for entry in [m["attraction"], m["dwell"], m["expressive"], *m["emotions"].values()]:
        assert entry["ci95"][0] <= entry["value"] <= entry["ci95"][1]
    assert curator.measures(curator.visitors([]))["emotions"]["happy"] == {"value": None, "ci95": None}


def test_exhibits_ranked_with_the_clear_differences_said():
    rng = np.random.default_rng(4)
    groups = {"A": curator.visitors(_period(200, 0.6, rng)), "B": curator.visitors(_period(200, 0.58, rng)),
              "C": curator.visitors(_period(200, 0.2, rng)), "D": curator.visitors([])}
    ranked = curator.rank(groups, "happy", resamples=RESAMPLES)
    assert [r["key"] for r in ranked][2:] == ["C", "D"]
    top, second, third, empty = ranked
    assert top["clearly_above_next"] is False and second["clearly_above_next"] is True
    assert third["clearly_above_next"] is None and empty["value"] is None
    words = curator.ranking_words(ranked, "happy", {k: f"Exhibit {k}" for k in groups})
    assert words[0].endswith(": no clear difference.") and " is clearly above Exhibit C (" in words[1]
    dwell = curator.rank(groups, "dwell", resamples=RESAMPLES)
    assert dwell[-1]["key"] == "D" and all(r["value"] is not None for r in dwell[:3])
    with pytest.raises(ValueError, match="unknown measure"):
        curator.rank(groups, "joy")


def test_holm_and_the_same_numbers_every_time():
    assert stats.holm([0.01, 0.04, 0.03, float("nan")])[:3] == pytest.approx([0.03, 0.06, 0.06])
    shares = np.random.default_rng(5).random(40)
    assert np.array_equal(stats.mean_interval(shares)[1], stats.mean_interval(shares)[1])
    assert stats.permutation_test(shares[:20], shares[20:])[0] == stats.permutation_test(shares[:20], shares[20:])[0]


class _Noise:
    """A blur that moves every share by +0.05 (a stand-in for privacy.Blur's Laplace noise)."""

    def scale(self, visitors):
        return 0.1

    def shares(self, metric, keys, values):
        return {k: v + 0.05 for k, v in values.items()}


def _noised_summary(rows, min_visitors, blur):
    """An exact summary with the blur's shares in place (what the portal releases)."""
    summary = analytics.summarise(rows, min_visitors)
    if not summary["hidden"]:
        for key in ("emotions", "mean_probabilities"):
            summary[key] = blur.shares(key, set(), summary[key])
    return summary


def test_released_intervals_are_centred_on_the_noised_value_and_rounded_outward():
    exact = {"value": 0.3, "ci95": [0.2, 0.42]}
    assert published.release(0.3, exact, None) == exact
    released = published.release(0.35, exact, 0.01)
    low, high = released["ci95"]
    assert released["value"] == 0.35 and low <= 0.35 - 0.1 and high >= 0.35 + 0.12
    assert low == round(low, 2) and high == round(high, 2)
    assert published.release(None, exact, 0.01) == {"value": None, "ci95": None}


class _Exact(_Noise):
    def scale(self, visitors):
        return None

    def shares(self, metric, keys, values):
        return values


def test_dwell_quantiles_and_interval_from_a_released_histogram():
    histogram = analytics.dwell_histogram([1, 1, 3, 3, 3, 7, 7, 20, 40, 400])
    counts = [b["visitors"] for b in histogram]
    assert counts == [2, 3, 2, 1, 1, 0, 1]
    assert published.histogram_quantile(counts, 0.5) == pytest.approx(2 + 3 * (5 - 2) / 3)
    assert published.histogram_quantile(counts, 0.0) == 0.0 and published.histogram_quantile(counts, 1.0) == 300.0
    assert published.histogram_quantile([0] * len(counts), 0.5) is None
    dwell = published.histogram_dwell(histogram, 5.0, resamples=RESAMPLES)
    assert dwell["q1"] <= 5.0 <= dwell["q3"] and dwell["ci95"][0] <= 5.0 <= dwell["ci95"][1]


def test_members_see_measures_built_on_the_released_summary():
    from portal.museum.settings import MuseumSettings

    rng = np.random.default_rng(6)
    rows = _period(40, 0.5, rng)
    settings = MuseumSettings(min_visitors=5, resamples=1000)
    blur = _Noise()
    summary = _noised_summary(rows, settings.min_visitors, blur)
    released = published.measures(curator.visitors(rows), summary, blur, settings)
    happy = released["emotions"]["happy"]
    assert happy["value"] == pytest.approx(summary["emotions"]["happy"], abs=1e-3)
    assert happy["ci95"][0] < happy["value"] < happy["ci95"][1]
    fields = published.summary_fields(released)
    assert fields["ci95"]["happy"] == happy["ci95"] and fields["attraction"] == released["attraction"]["value"]
    assert fields["stopped"] == round(fields["attraction"] * released["tracked"])
    hidden = _noised_summary(rows[:3], settings.min_visitors, blur)
    assert published.measures(curator.visitors(rows[:3]), hidden, blur, settings) is None
    assert published.summary_fields(None)["ci95"] is None


def test_the_aggregates_csv_carries_the_intervals():
    from portal.museum import exports as exhibit_data
    from portal.museum.settings import MuseumSettings

    rows = _period(30, 0.5, np.random.default_rng(7))
    summary = analytics.summarise(rows, 5)
    summary.update(published.summary_fields(published.measures(
        curator.visitors(rows), summary, _Exact(), MuseumSettings())))
    lines = exhibit_data.aggregates_csv(summary).splitlines()
    low = next(line for line in lines if line.startswith("emotions_ci95_low,happy,"))
    assert float(low.split(",")[2]) == summary["ci95"]["happy"][0]
    assert any(line.startswith("attraction_ci95_high,,") for line in lines)


def test_many_visitors_take_the_normal_approximation_and_agree_with_resampling():
    rng = np.random.default_rng(8)
    shares = rng.binomial(10, rng.beta(1.2, 2.8, size=stats.LARGE), size=stats.LARGE) / 10
    _, low, high = stats.mean_interval(shares)
    _, boot_low, boot_high = stats.mean_interval(shares[:-1], resamples=RESAMPLES)  # one fewer: resampled
    assert low[0] == pytest.approx(boot_low[0], abs=0.004) and high[0] == pytest.approx(boot_high[0], abs=0.004)
    dwell = rng.exponential(10, size=stats.LARGE)
    median, low, high = stats.median_interval(dwell)
    _, boot_low, boot_high = stats.median_interval(dwell[:-1], resamples=RESAMPLES)
    assert low < median < high and low == pytest.approx(boot_low, rel=0.05) and high == pytest.approx(boot_high, rel=0.05)
    a, b = shares[:1000], shares[1000:] + 0.015  # 2000 pooled: Welch's z
    normal = stats.permutation_test(a, b)[0]
    assert 0.1 < normal < 0.3
    assert normal == pytest.approx(stats.permutation_test(a, b[:-1], resamples=RESAMPLES)[0], abs=0.05)
    masks = np.random.default_rng(9).random((50, 40)) < 0.5
    ordered = np.sort(rng.random(40))
    expected = [np.median(ordered[m]) for m in masks]
    assert stats._selected_medians(ordered, masks) == pytest.approx(expected)
