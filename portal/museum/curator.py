"""The measures a curator reads, per exhibit and period, with 95 % intervals over visitors;
before/after comparisons and rankings of exhibits in words (issue 20).  Pure: observation rows
(:func:`db.observations.observation_rows` dicts) in, plain dicts out; exact numbers (what
members are shown is noised on top: :mod:`portal.museum.published`).

A visitor is one track of a session or a video, or one face of a photo
(:func:`portal.museum.analytics.visitor_key`).  Each visitor is first reduced to one number per
measure (:func:`visitors`), so that a visitor seen 500 times weighs as much as one seen once.

>>> rows = [sighting(track, "happy" if track <= 3 else "neutral", t=0.0) for track in range(1, 11)]
>>> m = measures(visitors(rows))
>>> m["visitors"], m["emotions"]["happy"]["value"], m["emotions"]["happy"]["ci95"]
(10, 0.3, [0.0, 0.6175])
>>> describe("happy", 0.31, 0.44, clear=True)
'Happy: 31% -> 44%, a clear increase'
>>> format_estimate({"value": 0.31, "ci95": [0.24, 0.39]})
'31% (24–39%)'
"""
from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass

import numpy as np

from portal.museum import analytics, stats

log = logging.getLogger(__name__)

EMOTIONS = analytics.EMOTIONS
STOP_S = 5.0  # default: a visitor who stayed at least this long "stopped" (a setting)
LEVEL = 0.05  # a difference is "clear" when its Holm-adjusted p-value is below this
SHARES = ("expressive", "uncertain") + EMOTIONS
MEASURES = ("attraction", "dwell") + SHARES  # what can be compared and ranked
DEFINITIONS = {
    "visitors": "People seen at the exhibit: each tracked person of a camera or video, or "
                "each face in an attached photo, counted once however long they stayed.",
    "stopped": "Tracked visitors who stayed in view at least {stop_s:g} seconds.",
    "attraction": "Stopped visitors divided by all tracked visitors: how many of those who "
                  "passed by stopped.",
    "dwell": "Seconds between a tracked visitor's first and last sighting: the median visitor, "
             "and the middle half of visitors between the quartiles.",
    "expressive": "The share of the visitors' faces showing any emotion but neutral (each "
                  "visitor weighs the same).",
    "uncertain": "The share of faces the model could not read with confidence; they count in "
                 "no emotion.",
    "emotion": "For each emotion, the share of the visitors' faces showing it, each visitor "
               "weighing the same however long they stayed.",
    "ci95": "The range in brackets is a 95 % interval: with other visitors on other days the "
            "number would most likely fall inside it; few visitors give wide ranges.",
}


@dataclass
class Visitors:
    """One row per visitor: ``shares`` (visitors x emotions: share of their sightings with that
    emotion, uncertain ones in none), ``uncertain``, ``probabilities`` (their mean per
    emotion), ``dwell`` (seconds, NaN for photo faces) and their ``keys``."""
    keys: list
    shares: np.ndarray
    uncertain: np.ndarray
    probabilities: np.ndarray
    dwell: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)

    def tracked(self) -> np.ndarray:
        return ~np.isnan(self.dwell)


def _per_visitor(inverse: np.ndarray, values: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The mean of each column of ``values`` (rows x columns) over each visitor's rows."""
    return np.column_stack([np.bincount(inverse, weights=column, minlength=len(count)) / count
                            for column in values.T]) if len(count) else np.zeros((0, values.shape[1]))


def visitors(rows: list[dict]) -> Visitors:
    """The observation rows reduced to one row per visitor (rows without an ``uncertain`` flag
    are certain)."""
    index: dict[tuple, int] = {}
    inverse = np.array([index.setdefault(analytics.visitor_key(r), len(index)) for r in rows], dtype=int)
    count = np.bincount(inverse, minlength=len(index)).astype(float)
    uncertain = np.array([bool(r.get("uncertain")) for r in rows], dtype=float)
    emotion = np.array([[r["emotion"] == e for e in EMOTIONS] for r in rows], dtype=float).reshape(-1, len(EMOTIONS))
    probabilities = np.array([[r["probabilities"][e] for e in EMOTIONS] for r in rows]).reshape(-1, len(EMOTIONS))
    t = np.array([r["t"] for r in rows], dtype=float)
    first, last = np.full(len(index), np.inf), np.full(len(index), -np.inf)
    np.minimum.at(first, inverse, t)
    np.maximum.at(last, inverse, t)
    tracked = np.bincount(inverse, minlength=len(index), weights=np.array(
        [r["session_id"] is not None or r.get("video_id") is not None for r in rows], dtype=float)) > 0
    return Visitors(keys=list(index), shares=_per_visitor(inverse, emotion * (1 - uncertain[:, None]), count),
                    uncertain=_per_visitor(inverse, uncertain[:, None], count).reshape(-1),
                    probabilities=_per_visitor(inverse, probabilities, count),
                    dwell=np.where(tracked, last - first, np.nan))


def values_of(v: Visitors, measure: str, stop_s: float = STOP_S) -> tuple[np.ndarray, str]:
    """One number per visitor for ``measure`` (one of :data:`MEASURES`) and the statistic that
    summarises them ("mean" or "median"); attraction and dwell count tracked visitors only."""
    if measure == "attraction":
        return (v.dwell[v.tracked()] >= stop_s).astype(float), "mean"
    if measure == "dwell":
        return v.dwell[v.tracked()], "median"
    if measure == "expressive":
        return v.shares[:, [i for i, e in enumerate(EMOTIONS) if e != "neutral"]].sum(axis=1), "mean"
    if measure == "uncertain":
        return v.uncertain, "mean"
    if measure in EMOTIONS:
        return v.shares[:, EMOTIONS.index(measure)], "mean"
    raise ValueError(f"unknown measure {measure!r}: one of {', '.join(MEASURES)}")


def _interval(low: float, high: float) -> list[float] | None:
    return None if np.isnan(low) else [round(float(low), 4), round(float(high), 4)]


def _estimate(value, low, high) -> dict:
    value = float(value)
    return {"value": None if np.isnan(value) else round(value, 4), "ci95": _interval(low, high)}


def dwell_measures(v: Visitors, resamples: int = stats.RESAMPLES, seed: int = stats.SEED) -> dict:
    """Median dwell of the tracked visitors with its interval, and the quartiles."""
    dwell = v.dwell[v.tracked()]
    median, low, high = stats.median_interval(dwell, resamples, seed)
    q1, q3 = (np.percentile(dwell, (25, 75)) if len(dwell) else (float("nan"),) * 2)
    out = _estimate(median, low, high)
    out.update(q1=None if np.isnan(q1) else round(float(q1), 2),
               q3=None if np.isnan(q3) else round(float(q3), 2))
    return out


def measures(v: Visitors, stop_s: float = STOP_S, resamples: int = stats.RESAMPLES,
             seed: int = stats.SEED) -> dict:
    """Every curator measure, exact, each ``{"value", "ci95": [low, high]}`` (None when no
    visitor counts): shares and mean probabilities, attraction, dwell."""
    columns = np.column_stack([values_of(v, m, stop_s)[0] for m in SHARES] + [v.probabilities]) \
        if len(v) else np.zeros((0, len(SHARES) + len(EMOTIONS)))
    means, lows, highs = stats.mean_interval(columns, resamples, seed)
    share = {m: _estimate(means[i], lows[i], highs[i]) for i, m in enumerate(SHARES)}
    offset = len(SHARES)
    stopped, _ = values_of(v, "attraction", stop_s)
    return {"visitors": len(v), "tracked": int(v.tracked().sum()), "stopped": int(stopped.sum()),
            "attraction": _estimate(*(x[0] for x in stats.mean_interval(stopped, resamples, seed))),
            "dwell": dwell_measures(v, resamples, seed),
            "expressive": share["expressive"], "uncertain": share["uncertain"],
            "emotions": {e: share[e] for e in EMOTIONS},
            "probabilities": {e: _estimate(means[offset + i], lows[offset + i], highs[offset + i])
                              for i, e in enumerate(EMOTIONS)}}


def measure_change(before: Visitors, after: Visitors, measure: str, stop_s: float = STOP_S,
                   resamples: int = stats.RESAMPLES, seed: int = stats.SEED) -> dict:
    """After minus before for one measure: ``difference`` with its ``ci95`` (None where a
    period has no visitor that counts); ``p_value``: :func:`p_values`."""
    a, statistic = values_of(before, measure, stop_s)
    b, _ = values_of(after, measure, stop_s)
    if len(a) == 0 or len(b) == 0:
        return {"before": None, "after": None, "difference": None, "ci95": None, "p_value": None}
    diff, low, high = stats.difference_interval(a, b, resamples, seed, statistic,
                                                bounded=measure != "dwell")
    pick = np.median if statistic == "median" else np.mean
    return {"before": round(float(pick(a)), 4), "after": round(float(pick(b)), 4),
            "difference": round(float(np.ravel(diff)[0]), 4),
            "ci95": _interval(np.ravel(low)[0], np.ravel(high)[0]), "p_value": None}


def p_value(before: Visitors, after: Visitors, measure: str, stop_s: float = STOP_S,
            resamples: int = stats.RESAMPLES, seed: int = stats.SEED) -> float | None:
    """The permutation test's two-sided p-value of one measure between two groups of visitors
    (None if one has no visitor that counts)."""
    a, statistic = values_of(before, measure, stop_s)
    b, _ = values_of(after, measure, stop_s)
    if len(a) == 0 or len(b) == 0:
        return None
    return round(float(stats.permutation_test(a, b, resamples, seed, statistic)[0]), 4)


def p_values(before: Visitors, after: Visitors, names: tuple[str, ...] = MEASURES,
             stop_s: float = STOP_S, resamples: int = stats.RESAMPLES,
             seed: int = stats.SEED) -> dict[str, float | None]:
    """:func:`p_value` of each measure of ``names``; the shares of all visitors are tested
    together (the same random splits: one pass)."""
    shares = [n for n in names if n not in ("attraction", "dwell")]
    out = {n: p_value(before, after, n, stop_s, resamples, seed) for n in names if n not in shares}
    if shares and len(before) and len(after):
        a, b = (np.column_stack([values_of(v, n, stop_s)[0] for n in shares]) for v in (before, after))
        tested = stats.permutation_test(a, b, resamples, seed)
        out.update({n: round(float(p), 4) for n, p in zip(shares, tested)})
    return {n: out.get(n) for n in names}


def mark_clear(tests: dict[str, dict], level: float = LEVEL) -> dict[str, dict]:
    """Adds ``clear`` to each test: Holm-adjusted p-value below ``level`` (across all the
    measures tested at once) and an interval that excludes 0."""
    names = list(tests)
    adjusted = stats.holm([float("nan") if tests[n]["p_value"] is None else tests[n]["p_value"]
                           for n in names])
    for name, p in zip(names, adjusted):
        ci = tests[name]["ci95"]
        tests[name]["clear"] = bool(p == p and p < level and ci is not None
                                    and (ci[0] > 0 or ci[1] < 0))
    return tests


def compare(before: Visitors, after: Visitors, stop_s: float = STOP_S,
            resamples: int = stats.RESAMPLES, seed: int = stats.SEED,
            names: tuple[str, ...] = MEASURES) -> dict[str, dict]:
    """Every measure of ``names`` tested (:func:`measure_change`), marked clear or not and said in
    words (:func:`describe`)."""
    tests = {m: measure_change(before, after, m, stop_s, resamples, seed) for m in names}
    for name, p in p_values(before, after, names, stop_s, resamples, seed).items():
        tests[name]["p_value"] = p
    return conclude(tests)


def conclude(tests: dict[str, dict], level: float = LEVEL) -> dict[str, dict]:
    """Each test marked clear or not (:func:`mark_clear`) and said in words (:func:`describe`)."""
    for name, test in mark_clear(tests, level).items():
        test["words"] = describe(name, test["before"], test["after"], test["clear"])
    return tests


def label(measure: str) -> str:
    return {"dwell": "Median dwell", "expressive": "Expressive faces",
            "uncertain": "Uncertain faces"}.get(measure, measure.capitalize())


def format_value(measure: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} s" if measure == "dwell" else f"{100 * value:.0f}%"


def format_estimate(entry: dict | None, measure: str = "share") -> str:
    """'31% (24–39%)', '12 s (8–15 s)'; '—' when there is no value."""
    if not entry or entry.get("value") is None:
        return "—"
    value = format_value(measure, entry["value"])
    if not entry.get("ci95"):
        return value
    low, high = (format_value(measure, x) for x in entry["ci95"])
    unit = " s" if measure == "dwell" else "%"
    return f"{value} ({low.removesuffix(unit)}–{high})"


def format_change(test: dict, measure: str = "share") -> str:
    """'+13 points (+5 to +21)', '+4 s (-1 to +9)'; '—' when there is no difference."""
    if not test or test.get("difference") is None:
        return "—"
    scale, unit = (1, " s") if measure == "dwell" else (100, " points")
    low, high = test["ci95"]
    return f"{scale * test['difference']:+.0f}{unit} ({scale * low:+.0f} to {scale * high:+.0f})"


def definitions(stop_s: float = STOP_S) -> dict[str, str]:
    """:data:`DEFINITIONS` with the stop time filled in."""
    return {k: v.format(stop_s=stop_s) for k, v in DEFINITIONS.items()}


def describe(measure: str, before: float | None, after: float | None, clear: bool) -> str:
    """'Happy: 31% -> 44%, a clear increase' / '... no clear change'."""
    if before is None or after is None:
        return f"{label(measure)}: too few visitors to compare"
    verdict = ("a clear increase" if after > before else "a clear decrease") if clear \
        else "no clear change"
    return (f"{label(measure)}: {format_value(measure, before)} -> "
            f"{format_value(measure, after)}, {verdict}")


def estimate(v: Visitors, measure: str, stop_s: float = STOP_S,
             resamples: int = stats.RESAMPLES, seed: int = stats.SEED) -> dict:
    """``{"value", "ci95"}`` of one measure over the visitors (exact)."""
    values, statistic = values_of(v, measure, stop_s)
    if statistic == "median":
        return _estimate(*stats.median_interval(values, resamples, seed))
    return _estimate(*(x[0] for x in stats.mean_interval(values, resamples, seed)))


def rank(groups: dict, measure: str, stop_s: float = STOP_S, resamples: int = stats.RESAMPLES,
         seed: int = stats.SEED, estimates: dict | None = None) -> list[dict]:
    """Groups (e.g. exhibits: ``{key: Visitors}``) from the highest ``measure`` down, each
    ``{"key", "visitors", "value", "ci95", "p_value_next", "clearly_above_next"}``: whether
    it is clearly above the next one (permutation test, Holm-adjusted over the neighbours).
    ``estimates``: ``{key: {"value", "ci95"}}`` to rank by (default: exact, :func:`estimate`;
    a None value goes last, untested)."""
    estimates = estimates or {k: estimate(v, measure, stop_s, resamples, seed)
                              for k, v in groups.items()}
    order = sorted(groups, key=lambda k: (estimates[k]["value"] is None, -(estimates[k]["value"] or 0)))
    ranked = [{"key": k, "visitors": len(groups[k]), **estimates[k], "p_value_next": None,
               "clearly_above_next": None} for k in order]
    shown = [r for r in ranked if r["value"] is not None]
    pairs = list(zip(shown, shown[1:]))
    p_values = [p_value(groups[lower["key"]], groups[upper["key"]], measure, stop_s, resamples, seed)
                for upper, lower in pairs]
    adjusted = stats.holm([float("nan") if p is None else p for p in p_values])
    for (upper, lower), p, p_adjusted in zip(pairs, p_values, adjusted):
        upper["p_value_next"] = p
        upper["clearly_above_next"] = bool(p_adjusted == p_adjusted and p_adjusted < LEVEL
                                           and upper["value"] > lower["value"])
    return ranked


def ranking_words(ranked: list[dict], measure: str, names: dict) -> list[str]:
    """One sentence per pair of neighbours in a ranking: clearly above, or no clear difference."""
    shown = [r for r in ranked if r["value"] is not None]
    out = []
    for upper, lower in zip(shown, shown[1:]):
        a = f"{names[upper['key']]} ({format_value(measure, upper['value'])})"
        b = f"{names[lower['key']]} ({format_value(measure, lower['value'])})"
        out.append(f"{a} is clearly above {b}." if upper["clearly_above_next"]
                   else f"{a} and {b}: no clear difference.")
    return out


def split_rows(rows: list[dict], split: _dt.datetime) -> tuple[list[dict], list[dict]]:
    """Rows observed before ``split`` (naive UTC), and from it on."""
    return ([r for r in rows if r["observed_at"] < split], [r for r in rows if r["observed_at"] >= split])


def sighting(track: int, emotion: str, t: float = 0.0, session: int | None = 1,
             when: _dt.datetime = _dt.datetime(2026, 1, 5, 12), uncertain: bool = False) -> dict:
    """An observation row (for examples and tests): one sighting of ``track`` in ``session``
    (None: a photo face) that gives ``emotion`` probability 1."""
    return {"session_id": session, "computation_id": None if session else 1, "video_id": None,
            "track_id": track, "t": t, "observed_at": when + _dt.timedelta(seconds=t),
            "emotion": emotion, "uncertain": uncertain,
            "probabilities": {e: float(e == emotion) for e in EMOTIONS}}
