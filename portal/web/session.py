"""Who is logged in, read from the portal's cookies outside Flask.

For the real-time app mounted beside the portal (FastAPI/Gradio): it gets
the same cookies, so it can identify the user without a second login.

    from portal.web.session import current_user_id, auth_dependency
    gr.mount_gradio_app(app, blocks, path="/app",
                        auth_dependency=auth_dependency(flask_app))
    ...
    user_id = current_user_id(request, flask_app)   # int or None
    # inside a Gradio event handler: int(request.username) is the same id

The Flask session cookie is verified with the same secret key and maximum
age Flask uses; failing that, Flask-Login's "remember me" cookie is honoured
(unless the session says the user logged out).  Either way the user must
still exist and the token in the login id must match (a password change or
account deletion cuts off old cookies).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask
from itsdangerous import BadSignature

import db
from portal.web.users import user_from_login_id

log = logging.getLogger(__name__)


def _session_data(flask_app: Flask, cookies: Mapping[str, str]) -> dict:
    value = cookies.get(flask_app.config["SESSION_COOKIE_NAME"])
    if not value:
        return {}
    serializer = flask_app.session_interface.get_signing_serializer(flask_app)
    if serializer is None:
        return {}
    max_age = int(flask_app.permanent_session_lifetime.total_seconds())
    try:
        data = serializer.loads(value, max_age=max_age)
    except BadSignature:  # includes SignatureExpired
        return {}
    return data if isinstance(data, dict) else {}


def _remembered_login_id(flask_app: Flask, cookies: Mapping[str, str]) -> str | None:
    name = flask_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    value = cookies.get(name)
    if not value:
        return None
    from flask_login.utils import decode_cookie
    with flask_app.app_context():  # decode_cookie reads the app's secret key
        return decode_cookie(value)


def user_id_from_cookies(flask_app: Flask, cookies: Mapping[str, str]) -> int | None:
    """The logged-in user's id from a cookie mapping, or None."""
    data = _session_data(flask_app, cookies)
    login_id = data.get("_user_id")
    if login_id is None and data.get("_remember") != "clear":
        login_id = _remembered_login_id(flask_app, cookies)
    if login_id is None:
        return None
    with db.connection():
        row = user_from_login_id(login_id)
    return row.id if row is not None else None


def current_user_id(request, flask_app: Flask) -> int | None:
    """The logged-in user's id for a Starlette/FastAPI ``Request``, or None."""
    return user_id_from_cookies(flask_app, request.cookies)


def auth_dependency(flask_app: Flask):
    """A callable for ``gr.mount_gradio_app(..., auth_dependency=...)``.

    It returns the logged-in user's id *as a string* (Gradio then exposes it
    as ``gr.Request.username``; ``int(request.username)`` is the owner id for
    :func:`db.record_computation`), or None, which makes Gradio answer 401.
    """
    def dependency(request) -> str | None:
        user_id = current_user_id(request, flask_app)
        return None if user_id is None else str(user_id)
    return dependency
