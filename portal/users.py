"""Flask-Login glue: the logged-in user object and how it is loaded.

The login id kept in the session (and in the "remember me" cookie) is
``"<user id>:<auth token>"``; rotating the token (password change) signs out
every other session of that user.
"""
from __future__ import annotations

import hmac

from flask_login import LoginManager, UserMixin

import db

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


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
