"""What every table module shares: the database proxy the models are bound to, their base class,
timestamps, ids, pagination and the seven classes (the database's columns fix them).

``database`` is a :class:`peewee.DatabaseProxy` that :func:`db.init` points at SQLite or PostgreSQL;
the schema itself is created and changed only by :mod:`db.migrations`.
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass

import peewee as pw

# The largest row id: peewee's AutoField is PostgreSQL's ``serial`` (a 4-byte integer), so no row can
# have a larger one; a larger number given by a client matches nothing and the database is never
# asked (SQLite would compare it, PostgreSQL would fail on its integer columns).
MAX_ID = 2**31 - 1
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


database = pw.DatabaseProxy()


def utcnow() -> _dt.datetime:
    """Naive UTC timestamp (stored the same way on SQLite and PostgreSQL)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


class BaseModel(pw.Model):
    class Meta:
        database = database


class SchemaVersion(BaseModel):
    """One row per applied migration."""

    version = pw.IntegerField(primary_key=True)
    name = pw.CharField(max_length=100)
    applied_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "schema_version"


@dataclass
class Page:
    """One page of a user's history, newest first."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def valid_id(value) -> int | None:
    """``value`` as a row id, or None if it cannot be one (not an integer, < 1, > MAX_ID):
    such ids match nothing, and the database is never asked (it would overflow)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= MAX_ID else None


def iso(value: _dt.datetime | None) -> str | None:
    """A stored (naive UTC) timestamp as ISO 8601 with ``Z``, to the second: what every JSON document says."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"
