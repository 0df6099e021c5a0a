"""Migration 10 (issue 20): ``saved_comparisons``, the before/after comparisons a curator saved
for the organisation's printable report (an exhibit and the first day of the "after" period),
deleted with their exhibit or organisation.  Frozen snapshot: change the schema with a new
migration."""
from __future__ import annotations

import datetime as _dt

import peewee as pw


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


class _Base(pw.Model):
    """Unbound: :func:`v10_saved_comparisons` binds the snapshot to the database being migrated."""


class _User(_Base):
    class Meta:
        table_name = "users"


class _Organisation(_Base):
    class Meta:
        table_name = "organisations"


class _Exhibit(_Base):
    class Meta:
        table_name = "exhibits"


class _SavedComparison(_Base):
    organisation = pw.ForeignKeyField(_Organisation, on_delete="CASCADE", index=True)
    exhibit = pw.ForeignKeyField(_Exhibit, on_delete="CASCADE")
    split = pw.DateField()
    created_by = pw.ForeignKeyField(_User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=_now)

    class Meta:
        table_name = "saved_comparisons"
        indexes = ((("exhibit", "split"), True),)


def v10_saved_comparisons(database: pw.Database) -> None:
    with database.bind_ctx([_User, _Organisation, _Exhibit, _SavedComparison]):
        database.create_tables([_SavedComparison])
