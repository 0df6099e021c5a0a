"""The printable report of an organisation over a period (issue 20): its exhibits ranked by a
measure, each exhibit's measures, the before/after comparisons its curators saved, and the
method in plain words.  Everything as members see it (:mod:`portal.museum.published`), turned
into text here; the PDF layout is :mod:`portal.museum.report_pdf`.

    content = organisation_report(org, exhibits, saved, settings, "happy", start, end, period)
"""
from __future__ import annotations

import logging

from portal.museum import curator, exhibit_stats
from portal.museum import exports as exhibit_data
from portal.museum.published import value_of
from portal.museum.settings import MuseumSettings

log = logging.getLogger(__name__)

METHOD = (
    "Visitors, not faces. A camera sees the same visitor in many frames. Every measure is first "
    "computed per visitor (a tracked person, or one face of a photo), so that each visitor weighs "
    "the same however long they stayed.",
    "Intervals. The range in brackets is a 95 % interval: the visitors are drawn again at random, "
    "{resamples} times, and the measure recomputed each time; the interval holds the middle 95 % of "
    "those values. Few visitors give wide intervals. Below {min_visitors} visitors an exhibit's "
    "breakdown is hidden, to protect them.",
    "Privacy noise. The numbers carry a little random noise so that no visitor can be singled out; "
    "the intervals include it.",
    "Ranking. Two neighbouring exhibits differ clearly when a permutation test over their visitors "
    "gives a p-value below 0.05 after Holm's correction for comparing all neighbours.",
    "Before and after. The visitors before and from the chosen day are compared per measure: the "
    "change with its 95 % interval and a p-value from a permutation test. A change is called clear "
    "when the p-value, corrected for testing every measure at once, is below 0.05 and the interval "
    "excludes no change. \"No clear change\" does not prove that nothing changed.",
    "Emotions are estimated by a model from facial expressions: estimates, not facts about how "
    "people feel. Faces the model cannot read with confidence count in no emotion.",
)
ROWS = ("attraction", "dwell", "expressive", "uncertain") + curator.EMOTIONS


def _unit(measure: str) -> str:
    return "dwell" if measure == "dwell" else "share"


def _measure_rows(measures: dict) -> list[tuple[str, str]]:
    rows = [("Stopped visitors", f"{measures['stopped']} of {measures['tracked']} tracked")] \
        if measures.get("stopped") is not None else []
    return rows + [(curator.label(m), curator.format_estimate(value_of(measures, m), _unit(m)))
                   for m in ROWS]


def exhibit_section(summary: dict) -> dict:
    """One exhibit's visitors and measures with intervals (or why they are hidden)."""
    hidden = None if summary.get("measures") else (
        f"{summary['visitors']} visitor(s): at least {summary['min_visitors']} are needed")
    return {"name": summary["exhibit"], "visitors": summary["visitors"], "hidden": hidden,
            "rows": _measure_rows(summary["measures"]) if not hidden else []}


def comparison_section(comparison: dict) -> dict:
    """A saved before/after comparison: words, and per measure before, after, change, p-value."""
    tests = comparison["tests"] or {}
    rows = [(curator.label(name),
             curator.format_estimate({"value": t["before"], "ci95": t.get("before_ci95")}, _unit(name)),
             curator.format_estimate({"value": t["after"], "ci95": t.get("after_ci95")}, _unit(name)),
             curator.format_change(t, _unit(name)) + (" clear" if t.get("clear") else ""),
             "—" if t.get("p_value") is None else f"{t['p_value']:.3f}")
            for name, t in tests.items()]
    return {"exhibit": comparison["exhibit"], "split": comparison["split"],
            "before": comparison["before"]["visitors"], "after": comparison["after"]["visitors"],
            "hidden": comparison["hidden"], "words": comparison["words"], "rows": rows}


def ranking_section(ranking: dict) -> dict:
    unit = _unit(ranking["measure"])
    return {"label": ranking["label"], "notes": ranking["notes"],
            "rows": [(r["exhibit"], r["visitors"],
                      curator.format_estimate(r, unit) if r["value"] is not None else r["hidden"])
                     for r in ranking["exhibits"]]}


def organisation_report(org_name: str, exhibits, saved, settings: MuseumSettings, measure: str,
                        start=None, end=None, period: str = "all recorded days") -> dict:
    """The report's content: ``saved`` are (exhibit, split day) pairs; ValueError for a bad
    measure.  The comparisons use the same period as the rest."""
    summaries = {e.id: exhibit_data.exhibit_summary(e, settings, start, end, bucket="day")
                 for e in exhibits}
    ranking = exhibit_stats.organisation_ranking(exhibits, settings, measure, start, end,
                                                 summaries=summaries)
    comparisons = [comparison_section(exhibit_stats.exhibit_comparison(
        exhibit, settings, split.isoformat(), start, end)) for exhibit, split in saved]
    method = [p.format(resamples=settings.resamples, min_visitors=settings.min_visitors)
              for p in METHOD]
    definitions = curator.definitions(settings.stop_s)
    return {"organisation": org_name, "period": period, "ranking": ranking_section(ranking),
            "exhibits": [exhibit_section(summaries[e.id]) for e in exhibits],
            "comparisons": comparisons, "method": method,
            "definitions": [(curator.label(k) if k in curator.MEASURES else k.capitalize(), v)
                            for k, v in definitions.items()]}
