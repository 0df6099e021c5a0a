"""Peewee models for the portal and the real-time app.

The models are bound to ``database``, a :class:`peewee.DatabaseProxy` that
:func:`db.init` points at SQLite or PostgreSQL.  The schema itself is created
and changed only by :mod:`db.migrations`; the classes here describe the
*current* version of it.
"""
from __future__ import annotations

import datetime as _dt

import peewee as pw

database = pw.DatabaseProxy()

KINDS = ("upload", "webcam")
# Longest free text a computation keeps (characters); longer text is refused, never cut.
TEXT_LIMITS = {"title": 200, "exhibit": 200, "notes": 4000}


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


class User(BaseModel):
    username = pw.CharField(max_length=40, unique=True)
    email = pw.CharField(max_length=254, unique=True)
    password_hash = pw.CharField(max_length=255)
    full_name = pw.CharField(max_length=100, default="")
    organisation = pw.CharField(max_length=100, default="")
    created_at = pw.DateTimeField(default=utcnow)
    # Number of computations this user has run (lifetime; not lowered when a
    # computation is deleted from the history).  Updated in the same
    # transaction as the Computation insert, with an SQL-side increment.
    computation_count = pw.IntegerField(default=0)
    # Random token that is part of the login id: rotating it logs out every
    # session and "remember me" cookie of this user (password change).
    auth_token = pw.CharField(max_length=64)
    last_login_at = pw.DateTimeField(null=True)  # added by migration 2

    class Meta:
        table_name = "users"


class Computation(BaseModel):
    owner = pw.ForeignKeyField(User, backref="computations", on_delete="CASCADE", index=True)
    kind = pw.CharField(max_length=16)  # one of KINDS
    created_at = pw.DateTimeField(default=utcnow, index=True)
    title = pw.CharField(max_length=200, default="")
    exhibit = pw.CharField(max_length=200, default="")
    notes = pw.TextField(default="")
    consent = pw.BooleanField(default=False)
    original_path = pw.CharField(max_length=500, default="")
    annotated_path = pw.CharField(max_length=500, default="")
    result_json = pw.TextField(default="{}")
    faces_found = pw.IntegerField(default=0)
    dominant_emotion = pw.CharField(max_length=32, null=True)
    timings_json = pw.TextField(default="{}")
    model_version = pw.CharField(max_length=100, default="")

    class Meta:
        table_name = "computations"
