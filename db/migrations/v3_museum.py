"""Migration 3 (frozen snapshot): the museum tables as first released.  Never edit; change the
schema with a new migration in :mod:`db.migrations`.  ``User`` and ``Computation`` are only
stand-ins for the foreign keys (their tables exist since migration 1)."""
from __future__ import annotations

import datetime as _dt

import peewee as pw


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


class Base(pw.Model):
    """Unbound: :func:`create_v3` binds the snapshot to the database being migrated."""


class User(Base):
    class Meta:
        table_name = "users"


class Computation(Base):
    class Meta:
        table_name = "computations"


class Organisation(Base):
    name = pw.CharField(max_length=200)
    owner = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
    created_at = pw.DateTimeField(default=_now)

    class Meta:
        table_name = "organisations"


class Membership(Base):
    organisation = pw.ForeignKeyField(Organisation, on_delete="CASCADE")
    user = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
    role = pw.CharField(max_length=16, default="member")
    joined_at = pw.DateTimeField(default=_now)

    class Meta:
        table_name = "memberships"
        indexes = ((("organisation", "user"), True),)


class Invitation(Base):
    organisation = pw.ForeignKeyField(Organisation, on_delete="CASCADE", index=True)
    code = pw.CharField(max_length=64, unique=True)
    created_by = pw.ForeignKeyField(User, on_delete="CASCADE")
    created_at = pw.DateTimeField(default=_now)
    expires_at = pw.DateTimeField()
    accepted_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    accepted_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "invitations"


class Exhibit(Base):
    organisation = pw.ForeignKeyField(Organisation, on_delete="CASCADE", index=True)
    name = pw.CharField(max_length=200)
    location = pw.CharField(max_length=200, default="")
    description = pw.TextField(default="")
    archived = pw.BooleanField(default=False)
    created_at = pw.DateTimeField(default=_now)

    class Meta:
        table_name = "exhibits"


class RecordingSession(Base):
    exhibit = pw.ForeignKeyField(Exhibit, on_delete="CASCADE", index=True)
    owner = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
    started_at = pw.DateTimeField(default=_now)
    stopped_at = pw.DateTimeField(null=True)
    summary_json = pw.TextField(default="{}")

    class Meta:
        table_name = "recording_sessions"


class ExhibitComputation(Base):
    computation = pw.ForeignKeyField(Computation, on_delete="CASCADE", unique=True)
    exhibit = pw.ForeignKeyField(Exhibit, on_delete="CASCADE", index=True)

    class Meta:
        table_name = "exhibit_computations"


class Observation(Base):
    exhibit = pw.ForeignKeyField(Exhibit, on_delete="CASCADE", index=True)
    session = pw.ForeignKeyField(RecordingSession, null=True, on_delete="CASCADE", index=True)
    computation = pw.ForeignKeyField(Computation, null=True, on_delete="CASCADE", index=True)
    source = pw.CharField(max_length=16)
    t = pw.FloatField(default=0.0)
    observed_at = pw.DateTimeField(index=True)
    track_id = pw.IntegerField()
    p_angry = pw.FloatField()
    p_disgust = pw.FloatField()
    p_fear = pw.FloatField()
    p_happy = pw.FloatField()
    p_sad = pw.FloatField()
    p_surprise = pw.FloatField()
    p_neutral = pw.FloatField()
    emotion = pw.CharField(max_length=32)
    face_size = pw.IntegerField(default=0)

    class Meta:
        table_name = "observations"


class ApiToken(Base):
    user = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
    kind = pw.CharField(max_length=16, default="personal")
    name = pw.CharField(max_length=100, default="")
    token_hash = pw.CharField(max_length=64, unique=True)
    prefix = pw.CharField(max_length=16, default="")
    created_at = pw.DateTimeField(default=_now)
    last_used_at = pw.DateTimeField(null=True)
    expires_at = pw.DateTimeField(null=True)
    revoked_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "api_tokens"


TABLES = [Organisation, Membership, Invitation, Exhibit, RecordingSession, ExhibitComputation,
          Observation, ApiToken]


def create_v3(database: pw.Database) -> None:
    """Create the museum tables (their foreign keys refer to users and computations)."""
    with database.bind_ctx(TABLES + [User, Computation]):
        database.create_tables(TABLES)
