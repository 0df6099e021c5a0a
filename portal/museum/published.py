"""The curator measures members are shown (issue 20), on top of the noise that keeps any one
visitor from being isolated (:mod:`portal.museum.privacy`, issue 18).  Framework-free.

An interval computed from the exact visitors would give the noise away (its middle is the
exact number), so what is released is built from released numbers as far as possible:

* a share's value is the noised one the summary shows; its interval is centred on it, its two
  half-widths are the cluster bootstrap's (:mod:`.stats`) combined with the noise's own 95 %
  spread (``ln 20`` x its Laplace scale), rounded outward to whole percentage points;
* the dwell-time median and quartiles are read off the released (noisy) histogram, and the
  median's interval comes from resampling that histogram: released numbers only;
* differences and rankings use the released values; their p-values (permutation tests over
  visitors) are rounded to 3 decimals; "clear" needs the Holm-adjusted p-value below 0.05
  *and* a released interval that excludes no change;
* nothing is computed for a period below the minimum visitors (the summary hides it); the
  attraction and the dwell quartiles also need that many *tracked* visitors.

With ``ANALYTICS_NOISE=0`` (:class:`portal.museum.analytics.Exact`) the exact numbers are shown.
"""
from __future__ import annotations

import logging
import math

import numpy as np

from portal.museum import analytics, curator, stats
from portal.museum.settings import MuseumSettings

log = logging.getLogger(__name__)

SPREAD = math.log(20)  # a Laplace variable stays within this many scales 95 % of the time


def _outward(low: float, high: float) -> list[float]:
    """[low, high] rounded outward to whole percentage points, within [0, 1]."""
    return [max(0.0, math.floor(low * 100 + 1e-9) / 100), min(1.0, math.ceil(high * 100 - 1e-9) / 100)]


def release(value: float | None, exact: dict, scale: float | None) -> dict:
    """``{"value", "ci95"}`` of a released share: centred on ``value`` (the noised one), the
    exact interval's half-widths widened by noise of Laplace ``scale`` (None: exact)."""
    if value is None or exact["value"] is None:
        return {"value": None, "ci95": None}
    if not scale:
        return {"value": exact["value"], "ci95": exact["ci95"]}
    noise = SPREAD * scale
    low = value - math.hypot(exact["value"] - exact["ci95"][0], noise)
    high = value + math.hypot(exact["ci95"][1] - exact["value"], noise)
    return {"value": round(value, 3), "ci95": _outward(low, high)}


def histogram_quantile(counts, q: float) -> float | None:
    """The ``q`` quantile of a dwell histogram (:data:`portal.museum.analytics.DWELL_BINS` counts),
    interpolated inside its bin; the open last bin gives its lower edge.  None if empty."""
    counts = [float(c) for c in counts]
    total, edges, seen = sum(counts), analytics.DWELL_BINS, 0.0
    if total <= 0:
        return None
    for i, count in enumerate(counts):
        if count > 0 and seen + count >= q * total:
            if i == len(edges) - 1:
                return float(edges[i])
            return edges[i] + (edges[i + 1] - edges[i]) * (q * total - seen) / count
        seen += count
    return float(edges[-1])


def histogram_dwell(histogram: list[dict], median: float | None, resamples: int,
                    seed: int = stats.SEED) -> dict:
    """Median (as released), quartiles and the median's interval from a released histogram:
    visitors drawn again from its bins, ``resamples`` times."""
    counts = np.array([b["visitors"] for b in histogram], dtype=float)
    total = int(counts.sum())
    if total <= 0 or median is None:
        return {"value": None, "ci95": None, "q1": None, "q3": None}
    draws = np.random.default_rng(seed).multinomial(total, counts / total, size=resamples)
    medians = [histogram_quantile(d, 0.5) for d in draws]
    low, high = np.percentile(medians, (2.5, 97.5))
    return {"value": median, "ci95": [round(float(min(low, median)), 1), round(float(max(high, median)), 1)],
            "q1": round(histogram_quantile(counts, 0.25), 1),
            "q3": round(histogram_quantile(counts, 0.75), 1)}


def _attraction(v: curator.Visitors, exact: dict, blur: analytics.Exact, settings: MuseumSettings):
    """(released attraction, stopped visitors); None, None below the minimum tracked visitors."""
    tracked = {k for k, is_tracked in zip(v.keys, v.tracked()) if is_tracked}
    if len(tracked) < settings.min_visitors or exact["attraction"]["value"] is None:
        return {"value": None, "ci95": None}, None
    share = exact["attraction"]["value"]
    value = blur.shares("attraction", tracked, {"stopped": share, "passed": 1 - share})["stopped"]
    released = release(value, exact["attraction"], blur.scale(len(tracked)))
    return released, round(released["value"] * len(tracked))


def _dwell(v: curator.Visitors, exact: dict, summary: dict, blur, settings: MuseumSettings) -> dict:
    if int(v.tracked().sum()) < settings.min_visitors or summary["dwell_s_median"] is None:
        return {"value": summary["dwell_s_median"], "ci95": None, "q1": None, "q3": None}
    if blur.scale(len(v)) is None:
        return exact["dwell"]
    return histogram_dwell(summary["dwell_histogram"], summary["dwell_s_median"], settings.resamples)


def _uncertain(v: curator.Visitors, exact: dict, summary: dict, blur) -> float:
    if summary.get("uncertain_share") is not None:  # issue 17's own, when the summary has it
        return summary["uncertain_share"]
    share = exact["uncertain"]["value"]
    return blur.shares("uncertain", set(v.keys), {"uncertain": share, "certain": 1 - share})["uncertain"]


def measures(v: curator.Visitors, summary: dict, blur: analytics.Exact,
             settings: MuseumSettings) -> dict | None:
    """The curator measures of a summary's visitors as members see them (see the module
    docstring); None when the summary's breakdown is hidden."""
    if summary["hidden"]:
        return None
    exact = curator.measures(v, settings.stop_s, settings.resamples)
    scale = blur.scale(len(v))
    attraction, stopped = _attraction(v, exact, blur, settings)
    emotions = {e: release(summary["emotions"][e], exact["emotions"][e], scale) for e in curator.EMOTIONS}
    expressive = sum(summary["emotions"][e] for e in curator.EMOTIONS if e != "neutral")
    return {"visitors": len(v), "tracked": exact["tracked"], "stopped": stopped,
            "attraction": attraction, "dwell": _dwell(v, exact, summary, blur, settings),
            "expressive": release(expressive, exact["expressive"], scale),
            "uncertain": release(_uncertain(v, exact, summary, blur), exact["uncertain"], scale),
            "emotions": emotions,
            "probabilities": {e: release(summary["mean_probabilities"][e], exact["probabilities"][e], scale)
                              for e in curator.EMOTIONS},
            "stop_s": settings.stop_s}


def summary_fields(released: dict | None) -> dict:
    """What ``GET /exhibits/{id}/summary`` adds: stopped, attraction, uncertain_share, ci95
    (per emotion) and the full ``measures``; None each when hidden."""
    if released is None:
        return {"stopped": None, "attraction": None, "uncertain_share": None, "ci95": None,
                "measures": None}
    return {"stopped": released["stopped"], "attraction": released["attraction"]["value"],
            "uncertain_share": released["uncertain"]["value"],
            "ci95": {e: released["emotions"][e]["ci95"] for e in curator.EMOTIONS},
            "measures": released}


def value_of(released: dict, measure: str) -> dict:
    """``{"value", "ci95"}`` of one measure (:data:`curator.MEASURES`) in released measures."""
    if measure in curator.EMOTIONS:
        return released["emotions"][measure]
    return released[measure]


def _change(p_value: float | None, before: dict, after: dict) -> dict:
    """A released difference after - before: the released values, the interval combined from
    their two intervals (MOVER: each side's distance to its bound, added in quadrature), the
    exact test's p-value rounded."""
    out = {"before": before["value"], "after": after["value"], "before_ci95": before["ci95"],
           "after_ci95": after["ci95"], "difference": None, "ci95": None, "p_value": None}
    if before["value"] is None or after["value"] is None or p_value is None:
        return out
    (b_low, b_high), (a_low, a_high) = before["ci95"], after["ci95"]
    difference = after["value"] - before["value"]
    low = difference - math.hypot(after["value"] - a_low, b_high - before["value"])
    high = difference + math.hypot(a_high - after["value"], before["value"] - b_low)
    out.update(difference=round(difference, 3), ci95=[round(low, 3), round(high, 3)],
               p_value=round(p_value, 3))
    return out


def comparison(v_before: curator.Visitors, v_after: curator.Visitors, before: dict | None,
               after: dict | None, settings: MuseumSettings) -> dict | None:
    """``{measure: {"before", "after", "difference", "ci95", "p_value", "clear", "words"}}``
    between two periods' released measures (:func:`measures`); None if either is hidden."""
    if before is None or after is None:
        return None
    p_values = curator.p_values(v_before, v_after, curator.MEASURES, settings.stop_s, settings.resamples)
    return curator.conclude({name: _change(p, value_of(before, name), value_of(after, name))
                             for name, p in p_values.items()})


def ranking(groups: dict, released: dict, measure: str, settings: MuseumSettings) -> list[dict]:
    """Exhibits (``{key: Visitors}``) ranked by a released measure (``{key: measures or None}``),
    highest first, with whether each is clearly above the next (:func:`curator.rank`)."""
    estimates = {k: value_of(r, measure) if r else {"value": None, "ci95": None}
                 for k, r in released.items()}
    ranked = curator.rank(groups, measure, settings.stop_s, settings.resamples, estimates=estimates)
    for entry in ranked:
        if entry["p_value_next"] is not None:
            entry["p_value_next"] = round(entry["p_value_next"], 3)
    return ranked
