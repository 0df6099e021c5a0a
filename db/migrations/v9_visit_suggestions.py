"""Migration 9 (issue 21): ``visit_suggestions`` (the exhibits each opted-in visit was suggested,
deleted with the visit) and ``suggestion_outcomes`` (per organisation and month: how many visits
saw suggestions, how many next exhibits were one of them; numbers linked to no visit).  Frozen
snapshot: change the schema with a new migration."""
from __future__ import annotations

import peewee as pw


class _Base(pw.Model):
    """Unbound: :func:`v9_visit_suggestions` binds the snapshot to the database being migrated."""


class _Organisation(_Base):
    class Meta:
        table_name = "organisations"


class _Exhibit(_Base):
    class Meta:
        table_name = "exhibits"


class _Visit(_Base):
    class Meta:
        table_name = "visits"


class _VisitSuggestion(_Base):
    visit = pw.ForeignKeyField(_Visit, on_delete="CASCADE", index=True)
    exhibit = pw.ForeignKeyField(_Exhibit, on_delete="CASCADE")
    shown_at = pw.DateTimeField()
    unvisited = pw.IntegerField()
    open = pw.BooleanField(default=True)

    class Meta:
        table_name = "visit_suggestions"


class _SuggestionOutcome(_Base):
    organisation = pw.ForeignKeyField(_Organisation, on_delete="CASCADE")
    month = pw.DateField()
    visits = pw.IntegerField(default=0)
    moves = pw.IntegerField(default=0)
    hits = pw.IntegerField(default=0)
    chance = pw.FloatField(default=0.0)

    class Meta:
        table_name = "suggestion_outcomes"
        indexes = ((("organisation", "month"), True),)


def v9_visit_suggestions(database: pw.Database) -> None:
    with database.bind_ctx([_Organisation, _Exhibit, _Visit, _VisitSuggestion, _SuggestionOutcome]):
        database.create_tables([_VisitSuggestion, _SuggestionOutcome])
