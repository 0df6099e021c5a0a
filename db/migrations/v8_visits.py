"""Migration 8 (issue 21): opted-in visits.  ``visits`` (the SHA-256 of each visit code, its
organisation, when it expires) and ``visit_sessions`` (the recording sessions started with a
code).  Frozen snapshot: change the schema with a new migration."""
from __future__ import annotations

import datetime as _dt

import peewee as pw


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


class _Base(pw.Model):
    """Unbound: :func:`v8_visits` binds the snapshot to the database being migrated."""


class _User(_Base):
    class Meta:
        table_name = "users"


class _Organisation(_Base):
    class Meta:
        table_name = "organisations"


class _RecordingSession(_Base):
    class Meta:
        table_name = "recording_sessions"


class _Visit(_Base):
    organisation = pw.ForeignKeyField(_Organisation, on_delete="CASCADE", index=True)
    code_hash = pw.CharField(max_length=64, unique=True)
    created_by = pw.ForeignKeyField(_User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=_now)
    expires_at = pw.DateTimeField(index=True)

    class Meta:
        table_name = "visits"


class _VisitSession(_Base):
    visit = pw.ForeignKeyField(_Visit, on_delete="CASCADE", index=True)
    session = pw.ForeignKeyField(_RecordingSession, on_delete="CASCADE", unique=True)
    linked_at = pw.DateTimeField(default=_now)

    class Meta:
        table_name = "visit_sessions"


def v8_visits(database: pw.Database) -> None:
    with database.bind_ctx([_User, _Organisation, _RecordingSession, _Visit, _VisitSession]):
        database.create_tables([_Visit, _VisitSession])
