"""API bearer tokens (issue 11).  Only the SHA-256 of a token is stored; the token itself is
returned once, when it is created.

    token, row = create_token(user_id, name="Camera 1")               # personal access token
    token, row = create_token(user_id, name="Hall", scope="kiosk", exhibit_id=7)  # one exhibit
    token, row = create_token(user_id, kind="login", expires_in=3600)  # POST /api/v1/token
    user = user_for_token(token)                                       # None: unknown/revoked/expired
    row = lookup(token)                                                # the row, its user loaded
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import secrets

import peewee as pw

from db.base import BaseModel, utcnow, valid_id
from db.museum import Exhibit
from db.users import User

SCOPES = ("read", "full", "kiosk")  # of an API token (migration 6)


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


MODELS = [ApiToken]

PREFIX = "ec_"
TOUCH_EVERY = _dt.timedelta(minutes=1)  # last_used_at is written at most this often


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user_id: int, name: str = "", kind: str = "personal",
                 expires_in: float | None = None, scope: str = "full",
                 exhibit_id: int | None = None) -> tuple[str, ApiToken]:
    """A new random token for the user; returns (the token, its row).  A "kiosk" token names
    its exhibit; other scopes none."""
    if kind not in ("personal", "login"):
        raise ValueError(f"unknown token kind {kind!r}")
    if scope not in SCOPES or (scope == "kiosk") != (exhibit_id is not None):
        raise ValueError(f"scope must be one of {SCOPES}, with an exhibit for 'kiosk' only")
    token = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + _dt.timedelta(seconds=expires_in) if expires_in else None
    if kind == "login":  # expired login tokens are of no use: drop them
        ApiToken.delete().where((ApiToken.kind == "login") & (ApiToken.expires_at < now)).execute()
    row = ApiToken.create(user=user_id, kind=kind, name=(name or "").strip()[:100],
                          token_hash=token_hash(token), prefix=token[:10], created_at=now,
                          expires_at=expires, scope=scope, exhibit=exhibit_id)
    return token, row


def lookup(token: str) -> ApiToken | None:
    """The token's row (with ``row.user`` loaded) if it is known, not revoked and not expired."""
    if not isinstance(token, str) or not token.startswith(PREFIX) or len(token) > 100:
        return None
    return _valid(ApiToken.token_hash == token_hash(token))


def lookup_id(token_id) -> ApiToken | None:
    """As :func:`lookup`, by the row's id (a kiosk page keeps only the id in its session)."""
    token_id = valid_id(token_id)
    return _valid(ApiToken.id == token_id) if token_id is not None else None


def _valid(where) -> ApiToken | None:
    row = ApiToken.select(ApiToken, User).join(User).where(where).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        return None
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    return row


def user_for_token(token: str) -> User | None:
    """The token's user if the token is known, not revoked and not expired."""
    row = lookup(token)
    return row.user if row is not None else None


def personal_tokens(user_id: int) -> list[ApiToken]:
    """The user's personal access tokens that are not revoked, newest first."""
    return list(ApiToken.select().where((ApiToken.user == user_id) & (ApiToken.kind == "personal")
                                        & ApiToken.revoked_at.is_null())
                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))


def revoke_token(user_id: int, token_id) -> bool:
    """Revoke one of the user's tokens; False if there is no such token of theirs."""
    token_id = valid_id(token_id)
    if token_id is None:
        return False
    return (ApiToken.update(revoked_at=utcnow())
            .where((ApiToken.id == token_id) & (ApiToken.user == user_id)
                   & ApiToken.revoked_at.is_null()).execute()) == 1


def revoke_login_tokens(user_id: int) -> int:
    """Revoke the user's POST /token tokens (a portal log-out logs the API out too; personal
    access tokens of devices stay).  Returns how many were revoked."""
    return (ApiToken.update(revoked_at=utcnow())
            .where((ApiToken.user == user_id) & (ApiToken.kind == "login")
                   & ApiToken.revoked_at.is_null()).execute())


def revoke_all(user_id: int) -> int:
    """Revoke every token of the user, personal and login (a password change).  Returns how
    many were revoked."""
    return (ApiToken.update(revoked_at=utcnow())
            .where((ApiToken.user == user_id) & ApiToken.revoked_at.is_null()).execute())
