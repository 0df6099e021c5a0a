"""Issue 9 (portal side): attacks reproduced over HTTP against the Flask portal.

Run them alone with ``pytest -m security``.
"""
import pytest

import db
from portal.session import user_id_from_cookies

from portal_testlib import PASSWORD, login, logout, post

pytestmark = pytest.mark.security


def _replay(app, cookies: dict):
    """A fresh browser that only has ``cookies`` (an attacker who copied them)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


# ------------------------------------------------------------------ 1. logout
def test_logout_invalidates_replayed_session_and_remember_cookies(app, client, alice):
    logout(client)
    assert login(client, "alice", remember=True).status_code == 302
    stolen = {name: client.get_cookie(name).value for name in ("session", "remember_token")}
    assert _replay(app, stolen).get("/menu").status_code == 200  # the cookies work before
    assert user_id_from_cookies(app, stolen) == alice.id
    assert logout(client).status_code == 302
    for cookies in (stolen, {"session": stolen["session"]},
                    {"remember_token": stolen["remember_token"]}):
        resp = _replay(app, cookies).get("/menu")
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login"), cookies
        assert user_id_from_cookies(app, cookies) is None  # what /app asks
    assert login(client, "alice").status_code == 302  # the owner logs in again as usual
    assert client.get("/menu").status_code == 200
