"""How often a suggested exhibit was visited next (issue 21): the organisation's report from
opted-in visits.  Framework-free; needs an open database connection.

    report = followed(user_id, org_id)   # NotFound for a non-member; any member may read it

A *move* is an opted-in visit's next recording at an exhibit it had not visited yet, after it
was shown suggestions.  The share of moves to a suggested exhibit gets Wilson's 95 % interval;
the baseline is what three random unvisited exhibits would have scored (per move: suggestions
shown / unvisited exhibits, averaged).  Observational: visitors may have gone there anyway.
"""
from __future__ import annotations

import logging

from db import visit_outcomes
from portal.museum import roles
from portal.museum.stats import wilson

log = logging.getLogger(__name__)
NOTE = ("Observational: a visitor who went to a suggested exhibit may have gone there anyway "
        "(it may be next door, or popular). The baseline is how often the next exhibit would "
        "have been one of as many exhibits picked at random among those not visited yet; only a "
        "trial that hides the suggestions from some visits (chosen at random) would measure "
        "what the suggestions cause.")
FEW_MOVES = 20  # below this, the interval is too wide to say much


def summarise(totals: dict) -> dict:
    """The report's numbers from ``{"visits", "moves", "hits", "chance"}`` (pure)."""
    moves, hits = totals["moves"], totals["hits"]
    out = {**totals, "share": None, "low": None, "high": None, "baseline": None,
           "few": moves < FEW_MOVES, "note": NOTE}
    if moves:
        low, high = wilson(hits / moves, moves)
        out.update(share=hits / moves, low=float(low), high=float(high),
                   baseline=totals["chance"] / moves)
    return out


def followed(user_id: int, organisation_id) -> dict:
    member = roles.require(user_id, organisation_id, "view")
    return summarise(visit_outcomes.outcome_totals(member.organisation_id))
