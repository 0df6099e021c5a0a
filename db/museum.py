"""Museum tables (issue 11): organisations, memberships, invitations, exhibits, recording
sessions, per-face observations, exhibit <-> computation links and API tokens.

Created by migration 3 (:mod:`db.museum_schema`, a frozen snapshot); the classes here describe
the current schema.  Functions over them live in :mod:`db.museum_api`.
"""
from __future__ import annotations

import peewee as pw

from db.models import BaseModel, Computation, User, utcnow
from db.videos import Video

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
ROLES = ("owner", "manager", "viewer")  # migration 6; before it: "owner", "member"
CONTRIBUTOR_ROLES = ("owner", "manager")  # may add data to an exhibit (record, attach)
SCOPES = ("read", "full", "kiosk")  # of an API token (migration 6)
SOURCES = ("session", "upload", "webcam", "video")


class Organisation(BaseModel):
    name = pw.CharField(max_length=200)
    owner = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "organisations"


class Membership(BaseModel):
    organisation = pw.ForeignKeyField(Organisation, backref="memberships", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
    role = pw.CharField(max_length=16, default="viewer")  # one of ROLES
    joined_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "memberships"
        indexes = ((("organisation", "user"), True),)


class Invitation(BaseModel):
    organisation = pw.ForeignKeyField(Organisation, on_delete="CASCADE", index=True)
    code = pw.CharField(max_length=64, unique=True)
    created_by = pw.ForeignKeyField(User, on_delete="CASCADE")
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    accepted_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    accepted_at = pw.DateTimeField(null=True)
    role = pw.CharField(max_length=16, default="viewer")  # the invitee's role (migration 6)

    class Meta:
        table_name = "invitations"


class Exhibit(BaseModel):
    organisation = pw.ForeignKeyField(Organisation, on_delete="CASCADE", index=True)
    name = pw.CharField(max_length=200)
    location = pw.CharField(max_length=200, default="")
    description = pw.TextField(default="")
    archived = pw.BooleanField(default=False)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "exhibits"


class RecordingSession(BaseModel):
    exhibit = pw.ForeignKeyField(Exhibit, on_delete="CASCADE", index=True)
    owner = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
    started_at = pw.DateTimeField(default=utcnow)
    stopped_at = pw.DateTimeField(null=True)
    summary_json = pw.TextField(default="{}")

    class Meta:
        table_name = "recording_sessions"


class ExhibitComputation(BaseModel):
    """A computation (upload / webcam capture) attached to an exhibit: its faces are observations."""
    computation = pw.ForeignKeyField(Computation, on_delete="CASCADE", unique=True)
    exhibit = pw.ForeignKeyField(Exhibit, on_delete="CASCADE", index=True)

    class Meta:
        table_name = "exhibit_computations"


class Observation(BaseModel):
    """One face seen once: in a session frame (``t`` seconds after its start), in a photo, or
    in a frame of an uploaded video (``t`` seconds into it; ``video`` added by migration 5)."""
    exhibit = pw.ForeignKeyField(Exhibit, on_delete="CASCADE", index=True)
    session = pw.ForeignKeyField(RecordingSession, null=True, on_delete="CASCADE", index=True)
    computation = pw.ForeignKeyField(Computation, null=True, on_delete="CASCADE", index=True)
    video = pw.ForeignKeyField(Video, null=True, on_delete="CASCADE", index=True)
    source = pw.CharField(max_length=16)  # one of SOURCES
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
    face_size = pw.IntegerField(default=0)  # larger side of the face box, pixels
    uncertain = pw.BooleanField(default=False)  # the model's rule marked the answer doubtful (migration 7)

    class Meta:
        table_name = "observations"


class ApiToken(BaseModel):
    """A bearer token; only its SHA-256 is stored.  ``kind``: "personal" (created on the Account
    page, no expiry) or "login" (from POST /api/v1/token, expires).  ``scope`` (one of
    :data:`SCOPES`) and, for "kiosk", the one ``exhibit`` it may record at: migration 6."""
    user = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
    kind = pw.CharField(max_length=16, default="personal")
    name = pw.CharField(max_length=100, default="")
    token_hash = pw.CharField(max_length=64, unique=True)
    prefix = pw.CharField(max_length=16, default="")
    created_at = pw.DateTimeField(default=utcnow)
    last_used_at = pw.DateTimeField(null=True)
    expires_at = pw.DateTimeField(null=True)
    revoked_at = pw.DateTimeField(null=True)
    scope = pw.CharField(max_length=16, default="full")
    exhibit = pw.ForeignKeyField(Exhibit, null=True, on_delete="CASCADE")

    class Meta:
        table_name = "api_tokens"


MODELS = [Organisation, Membership, Invitation, Exhibit, RecordingSession, ExhibitComputation,
          Observation, ApiToken]
