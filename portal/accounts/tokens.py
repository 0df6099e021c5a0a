"""API tokens and their scopes (issue 18).  Needs an open database connection.

    token, row = create_personal(user, password, "Kiosk hall 2", scope="kiosk", exhibit_id=7)
    grant = grant_for(token)                    # None: unknown, revoked or expired
    problem = refusal(grant, "POST", "/analyses")  # None when the scope allows the request
    password_changed(user_id)                   # every token of the user stops working
    grant = kiosk_grant(token, exhibit_id)      # a kiosk page signs in with its token

Scopes:

* ``read``: GET requests only (dashboards, summaries, one's own analyses);
* ``full``: everything the user may do (the default; what every token could do before);
* ``kiosk``: bound to one exhibit: start a recording session there, post its frames, read and
  stop it, start a visit code for that exhibit's organisation (issue 21), and nothing else
  (no exhibit, analysis, video or organisation, not even reading).

A token never grants more than its user's role allows; a scope only takes rights away.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import db
from db import museum
from db import tokens as token_rows
from db.tokens import SCOPES
from portal.accounts.passwords import verify_password
from portal.museum import roles

log = logging.getLogger(__name__)

KIOSK_ROUTES = {("POST", "/sessions"), ("GET", "/sessions/{session_id}"),
                ("POST", "/sessions/{session_id}/frames"), ("POST", "/sessions/{session_id}/stop"),
                ("POST", "/visits")}  # a visit code for its exhibit's organisation only (issue 21)
ANY_SCOPE = {("POST", "/token/revoke")}  # a token may always give itself up
READ_METHODS = ("GET", "HEAD")


class TokenRefused(ValueError):
    """The token cannot be created as asked; the message says why and what to do."""


class WrongPassword(TokenRefused):
    """The password re-check failed (counted by the password re-check limit)."""


@dataclass(frozen=True)
class Grant:
    """What a presented token allows: whose it is, its scope, its exhibit (kiosk)."""
    token_id: int
    user: object  # db.User
    scope: str
    exhibit_id: int | None
    kind: str  # "personal" or "login"


def grant_for(token: str) -> Grant | None:
    return _grant(token_rows.lookup(token))


def _grant(row) -> Grant | None:
    return None if row is None else Grant(row.id, row.user, row.scope, row.exhibit_id, row.kind)


def kiosk_grant(token: str, exhibit_id: int) -> Grant:
    """A kiosk token's grant for this exhibit (a kiosk page signing in with it), else
    TokenRefused."""
    grant = grant_for((token or "").strip())
    if grant is None or grant.scope != "kiosk" or grant.exhibit_id != exhibit_id:
        raise TokenRefused("This is not a valid kiosk token for this exhibit: create one on "
                           "Account > API tokens (scope kiosk, this exhibit) and paste it here.")
    return grant


def kiosk_grant_by_id(token_id, exhibit_id: int) -> Grant | None:
    """The grant a kiosk page signed in with, while its token is valid for this exhibit."""
    grant = _grant(token_rows.lookup_id(token_id))
    return grant if grant is not None and grant.scope == "kiosk" and grant.exhibit_id == exhibit_id else None


def create_personal(user, password: str, name: str, scope: str = "full",
                    exhibit_id=None) -> tuple[str, object]:
    """A personal access token after re-checking the user's password.  A kiosk token needs an
    exhibit the user may record at (owner or manager, not archived)."""
    if not verify_password(user.password_hash, password or ""):
        raise WrongPassword("This is not your password: enter your current password to create a token.")
    if scope not in SCOPES:
        raise TokenRefused(f"Choose a scope: {', '.join(SCOPES)}.")
    if scope == "kiosk":
        exhibit = museum.get_exhibit(user.id, exhibit_id)
        if exhibit is None:
            raise TokenRefused("A kiosk token records at one exhibit: choose one of your exhibits.")
        roles.exhibit_for(user.id, exhibit.id, "record")  # NotAllowed for a viewer
        if exhibit.archived:
            raise TokenRefused("That exhibit is archived: restore it first, or choose another one.")
    else:
        exhibit_id = None
    token, row = token_rows.create_token(user.id, name=name, scope=scope,
                                         exhibit_id=exhibit_id)
    log.info("personal access token created user_id=%d token_id=%d scope=%s", user.id, row.id, scope)
    return token, row


def refusal(grant: Grant, method: str, route: str) -> str | None:
    """None when the token's scope allows ``method route`` (the route's path template, e.g.
    ``/sessions/{session_id}/frames``), else a message naming the scope it needs."""
    request = (method.upper(), route)
    if grant.scope == "full" or request in ANY_SCOPE:
        return None
    if grant.scope == "read":
        if request[0] in READ_METHODS:
            return None
        return (f"this token has the 'read' scope, which only reads; {request[0]} {route} needs "
                "a token with the 'full' scope (Account > API tokens)")
    if request in KIOSK_ROUTES:
        return None
    return (f"this token has the 'kiosk' scope: it may only record at exhibit {grant.exhibit_id} "
            f"(POST /sessions, its frames and stop); {request[0]} {route} needs a token with the "
            "'read' or 'full' scope")


def exhibit_refusal(grant: Grant, exhibit_id) -> str | None:
    """A kiosk token records at its own exhibit only."""
    if grant.scope == "kiosk" and db.valid_id(exhibit_id) != grant.exhibit_id:
        return (f"this kiosk token records at exhibit {grant.exhibit_id} only; use a token with "
                "the 'full' scope for other exhibits")
    return None


def organisation_refusal(grant: Grant, organisation_id) -> str | None:
    """A kiosk token starts visits for its own exhibit's organisation only."""
    if grant.scope != "kiosk":
        return None
    exhibit = museum.get_exhibit(grant.user.id, grant.exhibit_id)
    if exhibit is None or exhibit.organisation_id != db.valid_id(organisation_id):
        return (f"this kiosk token starts visits only for the organisation of exhibit "
                f"{grant.exhibit_id}; use a token with the 'full' scope for other organisations")
    return None


def password_changed(user_id: int) -> int:
    """Revoke every token of the user (personal and login): a password change is when a lost
    or stolen device must stop working too.  Returns how many were revoked."""
    count = token_rows.revoke_all(user_id)
    log.info("tokens revoked after a password change user_id=%d count=%d", user_id, count)
    return count
