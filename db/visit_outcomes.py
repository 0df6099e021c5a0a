"""Suggestions shown to opted-in visits and how often one was visited next (issue 21).  Created
by migration 9 (:mod:`db.migrations.v9_visit_suggestions`).

``visit_suggestions``: the exhibits each visit was suggested and when, linked to the visit and
deleted with it.  The rows of the last showing stay *open* until the visit's next recording
starts at an exhibit it had not visited yet; that move is then counted in
``suggestion_outcomes``: per organisation and month, numbers only, linked to no visit (they
outlive the visits, which end the same day).

    record_shown(visit, [exhibit ids], unvisited, now)  # a new showing (nothing if unchanged)
    record_move(visit, exhibit_id, now)                 # the visit's next new exhibit
    totals = outcome_totals(org_id)                     # {"visits", "moves", "hits", "chance"}
"""
from __future__ import annotations

import datetime as _dt
import logging

import peewee as pw

from db.base import BaseModel, database
from db.museum import Exhibit, Organisation
from db.observations import RecordingSession
from db.visits import Visit, VisitSession

log = logging.getLogger(__name__)


class VisitSuggestion(BaseModel):
    visit = pw.ForeignKeyField(Visit, on_delete="CASCADE", index=True)
    exhibit = pw.ForeignKeyField(Exhibit, on_delete="CASCADE")
    shown_at = pw.DateTimeField()
    unvisited = pw.IntegerField()  # exhibits not visited yet when shown: the baseline's odds
    open = pw.BooleanField(default=True)  # the last showing, no move counted against it yet

    class Meta:
        table_name = "visit_suggestions"


class SuggestionOutcome(BaseModel):
    organisation = pw.ForeignKeyField(Organisation, on_delete="CASCADE")
    month = pw.DateField()  # its first day
    visits = pw.IntegerField(default=0)  # visits shown suggestions for the first time
    moves = pw.IntegerField(default=0)  # next new exhibits visited after a showing
    hits = pw.IntegerField(default=0)  # ... that were one of the suggestions
    chance = pw.FloatField(default=0.0)  # sum of (suggestions / unvisited exhibits): random picks' hits

    class Meta:
        table_name = "suggestion_outcomes"
        indexes = ((("organisation", "month"), True),)


MODELS = [VisitSuggestion, SuggestionOutcome]
FIELDS = ("visits", "moves", "hits", "chance")


def _open(visit_id: int) -> list[VisitSuggestion]:
    return list(VisitSuggestion.select().where((VisitSuggestion.visit == visit_id) & VisitSuggestion.open))


def _tally(organisation_id: int, now: _dt.datetime, **add) -> None:
    month = now.date().replace(day=1)
    row, _ = SuggestionOutcome.get_or_create(organisation=organisation_id, month=month)
    SuggestionOutcome.update({getattr(SuggestionOutcome, k): getattr(SuggestionOutcome, k) + v
                              for k, v in add.items()}).where(SuggestionOutcome.id == row.id).execute()


def record_shown(visit: Visit, exhibit_ids: list[int], unvisited: int, now: _dt.datetime) -> bool:
    """Store a showing of ``exhibit_ids``; False (nothing stored) when there are none or they are
    the open showing's again (a page reloaded)."""
    if not exhibit_ids or unvisited < 1:
        return False
    with database.atomic():
        current = _open(visit.id)
        if {r.exhibit_id for r in current} == set(exhibit_ids):
            return False
        first = not VisitSuggestion.select().where(VisitSuggestion.visit == visit.id).exists()
        VisitSuggestion.update(open=False).where(VisitSuggestion.visit == visit.id).execute()
        VisitSuggestion.insert_many([{"visit": visit.id, "exhibit": i, "shown_at": now,
                                      "unvisited": unvisited} for i in exhibit_ids]).execute()
        if first:
            _tally(visit.organisation_id, now, visits=1)
    return True


def visited_exhibits(visit: Visit) -> set[int]:
    """The exhibits of the visit's recording sessions so far."""
    return {s.exhibit_id for s in RecordingSession.select(RecordingSession.exhibit)
            .join(VisitSession, on=(VisitSession.session == RecordingSession.id))
            .where(VisitSession.visit == visit.id)}


def record_move(visit: Visit, exhibit_id: int, now: _dt.datetime) -> bool | None:
    """The visit's next recording starts at ``exhibit_id`` (before it is linked): counted against
    the open showing if it is a new exhibit.  True/False: it was/was not suggested; None: not
    counted (no open showing, or an exhibit visited before)."""
    current = _open(visit.id)
    if not current or exhibit_id in visited_exhibits(visit):
        return None
    hit = exhibit_id in {r.exhibit_id for r in current}
    with database.atomic():
        VisitSuggestion.update(open=False).where(VisitSuggestion.visit == visit.id).execute()
        _tally(visit.organisation_id, now, moves=1, hits=int(hit),
               chance=len(current) / max(current[0].unvisited, len(current)))
    return hit


def outcome_totals(organisation_id: int) -> dict:
    """The organisation's counts over all months."""
    row = (SuggestionOutcome.select(*[pw.fn.COALESCE(pw.fn.SUM(getattr(SuggestionOutcome, k)), 0).alias(k)
                                      for k in FIELDS])
           .where(SuggestionOutcome.organisation == organisation_id).dicts().get())
    return {k: (float(row[k]) if k == "chance" else int(row[k])) for k in FIELDS}
