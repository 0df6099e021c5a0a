"""What the web app needs from the portal's session: who is logged in, and a log-out form.

The portal's log-out is a POST protected by a CSRF token bound to the Flask session.
:func:`logout_token` signs the token already in the user's session cookie (Flask-WTF
puts it there when any portal page with a form is rendered; the portal's header has
one), so the app can show a real log-out button. Without it, the page links to the
portal's menu instead.
"""
from __future__ import annotations

import html
import logging
from collections.abc import Mapping

import db

log = logging.getLogger(__name__)

PORTAL_LINKS = (("Menu", "/menu"), ("Videos", "/videos"), ("History", "/history"), ("Museums", "/organisations"),
                ("Account", "/account"))


def username_for(user_id: int) -> str | None:
    with db.connection():
        user = db.get_user(user_id)
    return None if user is None else (user.full_name or user.username)


def logout_token(flask_app, cookies: Mapping[str, str]) -> str | None:
    """A CSRF token for the portal's ``POST /logout``, or None if the session has none yet."""
    if flask_app is None:
        return None
    from flask import session
    from flask_wtf.csrf import generate_csrf

    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    try:
        with flask_app.test_request_context("/logout", headers={"Cookie": header}):
            field = flask_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
            if field not in session:
                return None
            return generate_csrf()
    except Exception:  # never break the page over the log-out button
        log.warning("could not make a log-out token", exc_info=True)
        return None


def header_html(display_name: str | None, token: str | None, active: str = "") -> str:
    """The portal-style header: brand, links back to the portal, who is logged in, log out."""
    links = "".join(f'<li><a href="{href}">{label}</a></li>' for label, href in PORTAL_LINKS)
    who = html.escape(display_name or "")
    if token:
        logout = ('<li><form method="post" action="/logout" class="inline">'
                  f'<input type="hidden" name="csrf_token" value="{html.escape(token)}">'
                  '<button type="submit" class="link-button" id="logout-button">Log out</button>'
                  '</form></li>')
    else:
        logout = '<li><a href="/menu" id="logout-button">Log out (from the menu)</a></li>'
    return (
        '<header class="portal-header" role="banner">'
        '<a class="brand" href="/menu"><img src="/static/favicon.svg" alt="" width="28" height="28">'
        'Emotion Classifier</a>'
        '<nav aria-label="Portal"><ul class="portal-nav">'
        f'{links}'
        f'<li class="who">Signed in as <strong id="signed-in-user">{who}</strong></li>'
        f'{logout}</ul></nav></header>'
    )
