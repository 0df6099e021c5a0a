"""Issue 9 (portal/server-root side) against run.py's whole ASGI app: the portal at /,
Gradio at /app. Run them alone with ``pytest -m security``."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app_testlib import PASSWORD

pytestmark = pytest.mark.security
TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                      r'type="hidden" name="csrf_token" value="([^"]+)"')


@pytest.fixture
def client(config, settings):
    import run

    app = run.build_app(config, realtime_settings=settings)
    with TestClient(app, follow_redirects=False) as c:
        yield c


def _token(client, url):
    m = TOKEN_RE.search(client.get(url).text)
    assert m, url
    return m.group(1) or m.group(2)


def _register(client, name="alice"):
    data = {"username": name, "email": f"{name}@example.org", "password": PASSWORD,
            "confirm": PASSWORD, "csrf_token": _token(client, "/register")}
    assert client.post("/register", data=data).status_code == 302


def _login(client, name="alice", remember=False):
    data = {"login": name, "password": PASSWORD, "csrf_token": _token(client, "/login")}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302


def _logout(client):
    assert client.post("/logout", data={"csrf_token": _token(client, "/menu")}).status_code == 302


def test_logout_cuts_off_replayed_cookies_on_app(client):
    _register(client)
    _logout(client)
    _login(client, remember=True)
    stolen = {k: client.cookies.get(k) for k in ("session", "remember_token")}
    assert _replay(client, stolen).get("/app/config").status_code == 200  # cached as valid now
    _logout(client)
    for cookies in (stolen, {"remember_token": stolen["remember_token"]}):
        replay = _replay(client, cookies)
        assert replay.get("/app/config").status_code == 401, cookies
        page = replay.get("/app/", headers={"accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


def _replay(client, cookies: dict) -> TestClient:
    """Another browser holding only ``cookies`` (copied by an attacker), same server."""
    other = TestClient(client.app, follow_redirects=False)
    for name, value in cookies.items():
        other.cookies.set(name, value)
    return other


def test_forwarded_for_from_localhost_does_not_bypass_the_ip_limit(config):
    """Through a real uvicorn started with run.py's options: a spoofed X-Forwarded-For per
    request must not give each attempt a fresh address."""
    import threading
    import time

    import httpx
    import uvicorn

    import run
    from app_testlib import free_port

    config = config.with_(port=free_port(), login_ip_limit="3 per hour")
    server = uvicorn.Server(uvicorn.Config(run.build_app(config, realtime=False),
                                           **run.server_options(config), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{config.port}") as http:
            codes = []
            for i in range(4):
                token = TOKEN_RE.search(http.get("/login").text)
                data = {"login": f"name{i}", "password": "bad-password-1",
                        "csrf_token": token.group(1) or token.group(2)}
                codes.append(http.post("/login", data=data,
                                       headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code)
        assert codes == [401, 401, 401, 429]
    finally:
        server.should_exit = True
        thread.join(timeout=15)
