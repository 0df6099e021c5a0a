"""What the museum pages ask of issue 20's numbers: the exhibit dashboard's before/after
comparison and the organisation page's ranking, from the request's query values.  A bad date
or measure gives a message for the page, never an error page.

    comparison, problem = page_comparison(exhibit, settings, request.args)   # (None, None): not asked
    ranking, problem = page_ranking(exhibits, settings, request.args, overview)
"""
from __future__ import annotations

import logging
from typing import Mapping

from portal.museum import curator, exhibit_stats
from portal.museum import exports as exhibit_data
from portal.museum.settings import MuseumSettings

log = logging.getLogger(__name__)
DEFAULT_MEASURE = "happy"


def page_comparison(exhibit, settings: MuseumSettings,
                    args: Mapping[str, str]) -> tuple[dict | None, str | None]:
    """(the comparison at ``args["split"]`` within from..to, None) or (None, what is wrong);
    (None, None) when no split was asked for."""
    if not args.get("split"):
        return None, None
    try:
        bounds = exhibit_data.date_range(args.get("from"), args.get("to"), settings.tz)
        return exhibit_stats.exhibit_comparison(exhibit, settings, args.get("split"), *bounds), None
    except ValueError as exc:
        return None, f"{exc}; no comparison shown."


def page_ranking(exhibits, settings: MuseumSettings, args: Mapping[str, str],
                 summaries: dict) -> tuple[dict, str | None]:
    """The exhibits ranked by ``args["measure"]`` (default happy; an unknown one: the default
    and a message) over the whole period (``summaries``: the overview's, reused)."""
    measure, problem = args.get("measure") or DEFAULT_MEASURE, None
    if measure not in curator.MEASURES:
        problem = (f"'measure' must be one of {', '.join(curator.MEASURES)}; "
                   f"ranked by {DEFAULT_MEASURE} instead.")
        measure = DEFAULT_MEASURE
    return exhibit_stats.organisation_ranking(exhibits, settings, measure, summaries=summaries), problem


def page_definitions(settings: MuseumSettings) -> dict[str, str]:
    """One sentence per curator measure, for the page."""
    return curator.definitions(settings.stop_s)
