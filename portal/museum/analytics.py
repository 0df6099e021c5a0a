"""Visitor analytics of an exhibit: pure functions over observation rows (issue 11).

A row is what :func:`db.observations.observation_rows` returns.  A *visitor* is one track of
one recording session or video, or one face of one analysed photo.  Every visitor weighs the
same in the emotion shares and mean probabilities (their own sightings averaged first), so one
visitor moves any of them by at most 1/visitors.  Privacy: a breakdown over fewer distinct
visitors than ``min_visitors`` is replaced by :data:`HIDDEN`; ``blur`` (what members are shown:
:class:`portal.museum.privacy.Blur`) adds noise to each breakdown, :data:`EXACT` none.

    summary = summarise(rows, min_visitors=5, tz=ZoneInfo("Europe/Paris"), bucket="hour")
"""
from __future__ import annotations

import datetime as _dt
import statistics
from collections import defaultdict
from zoneinfo import ZoneInfo

from db import EMOTIONS  # the seven classes, fixed by the observations' columns

UNCERTAIN = "uncertain"  # faces the model marked doubtful: a share of their own, never their top class
HIDDEN = "too few visitors to show"
DWELL_BINS = (0, 2, 5, 10, 30, 60, 300)  # seconds; the last bin is open-ended
UTC = _dt.timezone.utc


def visitor_key(row: dict) -> tuple:
    return (row["session_id"], row["computation_id"], row.get("video_id"), row["track_id"])


def visitor_count(rows: list[dict]) -> int:
    return len({visitor_key(r) for r in rows})


def dwell_times(rows: list[dict]) -> list[float]:
    """Seconds between the first and the last sighting of each visitor of a session or a video
    (photos have no dwell time)."""
    seen: dict[tuple, list[float]] = {}
    for r in rows:
        if r["session_id"] is None and r.get("video_id") is None:
            continue
        first_last = seen.setdefault(visitor_key(r), [r["t"], r["t"]])
        first_last[0], first_last[1] = min(first_last[0], r["t"]), max(first_last[1], r["t"])
    return [last - first for first, last in seen.values()]


def dwell_histogram(dwells: list[float]) -> list[dict]:
    """Visitors per dwell-time bin: [{"from_s", "to_s" (None: open), "visitors"}]."""
    edges = list(DWELL_BINS) + [None]
    counts = [0] * len(DWELL_BINS)
    for d in dwells:
        counts[max(i for i, lo in enumerate(DWELL_BINS) if d >= lo)] += 1
    return [{"from_s": lo, "to_s": hi, "visitors": n} for lo, hi, n in zip(edges, edges[1:], counts)]


def histogram_median(counts: list[float]) -> float | None:
    """The median of a dwell histogram (``DWELL_BINS`` counts), interpolated inside its bin; the
    open last bin gives its lower edge.  None for an empty histogram."""
    total = sum(counts)
    if total <= 0:
        return None
    half, seen = total / 2, 0.0
    for i, count in enumerate(counts):
        if count > 0 and seen + count >= half:
            if i == len(DWELL_BINS) - 1:
                return float(DWELL_BINS[i])
            width = DWELL_BINS[i + 1] - DWELL_BINS[i]
            return DWELL_BINS[i] + width * (half - seen) / count
        seen += count
    return float(DWELL_BINS[-1])


def by_visitor(rows: list[dict]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[visitor_key(r)].append(r)
    return groups


def _visitor_average(rows: list[dict], value) -> dict[str, float]:
    """``value(row, emotion)`` averaged over each visitor's rows, then over the visitors."""
    groups = by_visitor(rows).values()
    return {e: sum(sum(value(r, e) for r in g) / len(g) for g in groups) / len(groups)
            if groups else 0.0 for e in EMOTIONS}


def emotion_shares(rows: list[dict]) -> dict[str, float]:
    """For each class, the share of each visitor's sightings with that dominant emotion,
    averaged over the visitors (each visitor weighs the same, however long they stayed).
    Sightings marked uncertain count in no class (:func:`uncertain_share`)."""
    return _visitor_average(rows, lambda r, e: 1.0 if r["emotion"] == e and not r.get("uncertain") else 0.0)


def uncertain_share(rows: list[dict]) -> float:
    """The share of each visitor's sightings marked uncertain, averaged over the visitors: with
    :func:`emotion_shares` it sums to 1."""
    groups = by_visitor(rows).values()
    return sum(sum(bool(r.get("uncertain")) for r in g) / len(g) for g in groups) / len(groups) if groups else 0.0


def _shares(rows: list[dict], keys: set, blur: "Exact") -> tuple[dict[str, float], float]:
    """(emotion shares, uncertain share), blurred together as one distribution."""
    shares = blur.shares("emotions", keys, {**emotion_shares(rows), UNCERTAIN: uncertain_share(rows)})
    return shares, shares.pop(UNCERTAIN)


def mean_probabilities(rows: list[dict]) -> dict[str, float]:
    """Each visitor's mean probabilities, averaged over the visitors."""
    return _visitor_average(rows, lambda r, e: r["probabilities"][e])


class Exact:
    """No blurring: the numbers as computed (a recording's own summary, for its recorder)."""

    def shares(self, metric: str, keys: set, values: dict[str, float]) -> dict[str, float]:
        return values

    def dwell(self, keys: set, dwells: list[float]) -> tuple[list[dict], float | None]:
        return dwell_histogram(dwells), statistics.median(dwells) if dwells else None

    def scale(self, visitors: int) -> float | None:
        return None


EXACT = Exact()


def breakdown(rows: list[dict], min_visitors: int, blur: Exact = EXACT) -> dict:
    """Counts, and the emotion/dwell breakdown unless the visitors are too few."""
    keys = {visitor_key(r) for r in rows}
    out = {"visitors": len(keys), "faces": len(rows)}
    if len(keys) < min_visitors:
        out.update(hidden=HIDDEN, emotions=None, uncertain_share=None, mean_probabilities=None,
                   dwell_s_median=None, dwell_histogram=None, noise_scale=None)
        return out
    histogram, median = blur.dwell(keys, dwell_times(rows))
    emotions, uncertain = _shares(rows, keys, blur)
    out.update(hidden=None, emotions=emotions, uncertain_share=uncertain,
               mean_probabilities=blur.shares("probabilities", keys, mean_probabilities(rows)),
               dwell_s_median=median, dwell_histogram=histogram, noise_scale=blur.scale(len(keys)))
    return out


def local(when: _dt.datetime, tz: ZoneInfo | None) -> _dt.datetime:
    """A stored (naive UTC) time in ``tz``."""
    return when.replace(tzinfo=UTC).astimezone(tz or UTC)


def _bucket_start(when: _dt.datetime, bucket: str) -> _dt.datetime:
    if bucket == "day":
        return when.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "hour":
        return when.replace(minute=0, second=0, microsecond=0)
    raise ValueError("bucket must be 'hour' or 'day'")


def timeline(rows: list[dict], min_visitors: int, tz: ZoneInfo | None = None,
             bucket: str = "hour", blur: Exact = EXACT) -> list[dict]:
    """One entry per hour or day with observations: start (ISO, local), visitors, faces and,
    when the visitors are enough, emotion shares."""
    groups: dict[_dt.datetime, list[dict]] = defaultdict(list)
    for r in rows:
        groups[_bucket_start(local(r["observed_at"], tz), bucket)].append(r)
    out = []
    for start in sorted(groups):
        part = breakdown(groups[start], min_visitors, blur)
        out.append({"start": start.isoformat(), "visitors": part["visitors"], "faces": part["faces"],
                    "emotions": part["emotions"], "uncertain_share": part["uncertain_share"],
                    "hidden": part["hidden"]})
    return out


def heatmap(rows: list[dict], min_visitors: int, tz: ZoneInfo | None = None,
            blur: Exact = EXACT) -> dict:
    """Hour of day x weekday (Monday first): visitors per cell, and each cell's most frequent
    dominant emotion (the largest of its emotion shares, or "uncertain" when the uncertain faces
    outweigh every emotion) when its visitors are enough (else None)."""
    cells: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for r in rows:
        when = local(r["observed_at"], tz)
        cells[(when.weekday(), when.hour)].append(r)
    visitors = [[0] * 24 for _ in range(7)]
    dominant: list[list[str | None]] = [[None] * 24 for _ in range(7)]
    for (day, hour), part in cells.items():
        keys = {visitor_key(r) for r in part}
        visitors[day][hour] = len(keys)
        if len(keys) >= min_visitors:
            shares, uncertain = _shares(part, keys, blur)
            shares[UNCERTAIN] = uncertain  # last: a tie goes to the emotion
            dominant[day][hour] = max(shares, key=shares.get)
    return {"weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "visitors": visitors,
            "dominant": dominant}


def summarise(rows: list[dict], min_visitors: int, tz: ZoneInfo | None = None,
              bucket: str = "hour", blur: Exact = EXACT) -> dict:
    """Everything an exhibit's dashboard and ``GET /exhibits/{id}/summary`` show."""
    out = breakdown(rows, min_visitors, blur)
    out.update(min_visitors=min_visitors, timeline=timeline(rows, min_visitors, tz, bucket, blur),
               heatmap=heatmap(rows, min_visitors, tz, blur))
    return out


def session_summary(rows: list[dict], duration_s: float, min_visitors: int) -> dict:
    """What stopping a recording session answers and stores."""
    out = breakdown(rows, min_visitors)
    out["duration_s"] = round(float(duration_s), 3)
    return out
