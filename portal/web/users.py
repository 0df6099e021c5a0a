"""Flask-Login glue: the logged-in user object and how it is loaded.

The login id kept in the session (and in the "remember me" cookie) is
``"<user id>:<auth token>"``; rotating the token (:func:`rotate_token`, on
log-out and password change) makes every session and "remember me" cookie
of that user invalid, on the portal and on /app: a replayed cookie gets the
login page.
"""
from __future__ import annotations

import hmac
import itertools
import threading

from flask_login import LoginManager, UserMixin

import db

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"

_epoch = itertools.count(1)
_epoch_lock = threading.Lock()
_current_epoch = 0


class PortalUser(UserMixin):
    """Wraps a :class:`db.User` row for Flask-Login."""

    def __init__(self, row: db.User):
        self.row = row
        self.id = row.id

    def get_id(self) -> str:
        return login_id(self.row)

    def __getattr__(self, name):  # username, email, full_name, ...
        return getattr(self.row, name)


def login_id(row: db.User) -> str:
    return f"{row.id}:{row.auth_token}"


def rotate_token(user_id: int) -> db.User:
    """Give the user a new auth token: every cookie holding the old one stops working."""
    global _current_epoch
    row = db.update_user(user_id, auth_token=db.new_auth_token())
    with _epoch_lock:
        _current_epoch = next(_epoch)
    return row


def token_epoch() -> int:
    """Changes whenever this process rotates a token (lets caches of "who is this
    cookie" drop their entries at once)."""
    return _current_epoch


def user_from_login_id(value) -> db.User | None:
    """The user a login id names, if the user exists and its token matches."""
    if not isinstance(value, str) or ":" not in value:
        return None
    user_id, token = value.split(":", 1)
    if not user_id.isdigit():
        return None
    row = db.get_user(int(user_id))
    if row is None or not hmac.compare_digest(row.auth_token.encode(), token.encode()):
        return None
    return row


@login_manager.user_loader
def _load_user(value):
    row = user_from_login_id(value)
    return PortalUser(row) if row is not None else None
