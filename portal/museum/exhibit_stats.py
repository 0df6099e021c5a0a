"""An exhibit before and after a date, and an organisation's exhibits ranked (issue 20), shared
by the JSON API and the portal pages: what members are shown, with intervals, p-values and
words (:mod:`portal.museum.published`, :mod:`portal.museum.curator`).

    comparison = exhibit_comparison(exhibit, settings, "2026-03-01")     # ValueError: bad date
    ranking = organisation_ranking(exhibits, settings, "happy", start, end)  # ValueError: measure
"""
from __future__ import annotations

import datetime as _dt
import logging

from db.observations import observation_rows
from portal.museum import analytics, curator
from portal.museum import exports as exhibit_data
from portal.museum import published
from portal.museum.settings import MuseumSettings

log = logging.getLogger(__name__)


def split_time(text: str | None, tz: _dt.tzinfo) -> tuple[_dt.date, _dt.datetime]:
    """The split day and its local midnight as naive UTC (clamped to the calendar's ends)."""
    day = exhibit_data.parse_day(text, "split")
    if day is None:
        raise ValueError("'split' is required: the first day of the 'after' period, "
                         "a date like 2026-01-31")
    try:
        local = _dt.datetime.combine(day, _dt.time(), tzinfo=tz)
        return day, local.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    except OverflowError:
        return day, _dt.datetime.min if day.year == 1 else _dt.datetime.max


def _hidden_reason(before: dict, after: dict, split: _dt.date) -> str | None:
    for name, summary in (("before", before), ("after", after)):
        if summary["hidden"]:
            return (f"{analytics.HIDDEN}: {summary['visitors']} visitor(s) {name} {split.isoformat()}"
                    f" (at least {summary['min_visitors']} are needed in each period)")
    return None


def exhibit_comparison(exhibit, settings: MuseumSettings, split_text: str | None,
                       start=None, end=None) -> dict:
    """Before ``split`` (a local day: the first of the "after" period) and from it on, within
    [start, end): both summaries, and per measure the difference, its 95 % interval, the
    permutation test's p-value, whether it is clear, and words.  ``tests`` is None (and
    ``hidden`` says why) when either period has too few visitors."""
    day, split = split_time(split_text, settings.tz)
    before_rows, after_rows = curator.split_rows(observation_rows(exhibit.id, start, end), split)
    before = exhibit_data.exhibit_summary(exhibit, settings, bucket="day", rows=before_rows)
    after = exhibit_data.exhibit_summary(exhibit, settings, bucket="day", rows=after_rows)
    tests = published.comparison(curator.visitors(before_rows), curator.visitors(after_rows),
                                 before["measures"], after["measures"], settings)
    return {"exhibit_id": exhibit.id, "exhibit": exhibit.name, "split": day.isoformat(),
            "before": before, "after": after, "tests": tests,
            "hidden": _hidden_reason(before, after, day),
            "words": [t["words"] for t in tests.values()] if tests else []}


def check_measure(measure: str) -> str:
    if measure not in curator.MEASURES:
        raise ValueError(f"'measure' must be one of {', '.join(curator.MEASURES)}, "
                         f"not {str(measure)[:40]!r}")
    return measure


def organisation_ranking(exhibits, settings: MuseumSettings, measure: str, start=None, end=None,
                         summaries: dict | None = None) -> dict:
    """``exhibits`` from the highest ``measure`` down, each with its value, 95 % interval and
    whether it is clearly above the next one; ``notes`` say it in words.  ``summaries``
    (``{exhibit id: summary}`` over the same period) saves computing them again."""
    check_measure(measure)
    groups, released, names, counts = {}, {}, {}, {}
    for exhibit in exhibits:
        rows = observation_rows(exhibit.id, start, end)
        summary = (summaries or {}).get(exhibit.id) or exhibit_data.exhibit_summary(
            exhibit, settings, start, end, bucket="day", rows=rows)
        groups[exhibit.id], released[exhibit.id] = curator.visitors(rows), summary["measures"]
        names[exhibit.id], counts[exhibit.id] = exhibit.name, summary["visitors"]
    ranked = published.ranking(groups, released, measure, settings)
    return {"measure": measure, "label": curator.label(measure),
            "exhibits": [{"exhibit_id": r["key"], "exhibit": names[r["key"]],
                          "visitors": counts[r["key"]], "value": r["value"], "ci95": r["ci95"],
                          "clearly_above_next": r["clearly_above_next"],
                          "p_value_next": r["p_value_next"],
                          "hidden": analytics.HIDDEN if r["value"] is None else None}
                         for r in ranked],
            "notes": curator.ranking_words(ranked, measure, names)}
