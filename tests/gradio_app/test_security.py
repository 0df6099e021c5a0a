"""Issue 9 (portal/server-root side) against run.py's whole ASGI app: the portal at /,
Gradio at /app. Run them alone with ``pytest -m security``."""
from __future__ import annotations

import dataclasses
import logging
import re

import pytest
from fastapi.testclient import TestClient

import db
from tests.helpers import PASSWORD, TOKEN_RE
from tests.helpers.app import csrf_token, register

pytestmark = pytest.mark.security





def _login(client, name="alice", remember=False):
    data = {"login": name, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302


def _logout(client):
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/menu")}).status_code == 302


def test_logout_cuts_off_replayed_cookies_on_app(client):
    register(client)
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
    from tests.helpers.app import free_port

    config = dataclasses.replace(config, port=free_port(), login_ip_limit="3 per hour")
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


# ------------------------------------------------- 9. headers and CORS everywhere
def test_same_security_headers_on_every_response(client):
    register(client)
    urls = ["/", "/menu", "/login", "/static/style.css", "/no-such-page", "/app", "/app/",
            "/app/?tab=upload", "/app/config", "/app/gradio_api/info", "/app/theme.css"]
    responses = {url: client.get(url) for url in urls}
    anonymous = TestClient(client.app, follow_redirects=False)
    responses["anon /app/config"] = anonymous.get("/app/config", headers={"accept": "application/json"})
    responses["anon /app/"] = anonymous.get("/app/", headers={"accept": "text/html"})
    for url, resp in responses.items():
        h = resp.headers
        assert h.get("x-content-type-options") == "nosniff", url
        assert h.get("x-frame-options") == "SAMEORIGIN", url
        assert h.get("referrer-policy") == "same-origin", url
        csp = h.get("content-security-policy", "")
        assert "frame-ancestors 'self'" in csp and "default-src 'self'" in csp, url
        assert ("'unsafe-inline'" in csp) == url.lstrip("anon ").startswith("/app"), (url, csp)
    assert responses["/app/"].status_code == 200 and responses["/menu"].status_code == 200


def test_app_page_loads_nothing_from_other_origins(client):
    register(client)
    page = client.get("/app/").text
    external = re.findall(r'(?:src|href)=["\'](https?:)?//[^"\']+', page)
    assert external == [], external


@pytest.mark.parametrize("host, origin", [("127.0.0.1", "http://localhost:9999"),
                                          ("localhost", "http://127.0.0.1:1234"),
                                          ("museum.example", "https://evil.example"),
                                          ("127.0.0.1", "null")])
def test_no_credentialed_cross_origin_access(client, host, origin):
    register(client)
    headers = {"Origin": origin, "Host": host}
    for resp in (client.get("/app/config", headers=headers),
                 client.get("/app/gradio_api/info", headers=headers),
                 client.post("/app/gradio_api/queue/join", headers=headers, json={}),
                 client.options("/app/gradio_api/queue/join", headers={
                     **headers, "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "content-type"}),
                 client.get("/menu", headers=headers)):
        assert "access-control-allow-origin" not in resp.headers, (resp.request.url, resp.headers)
        assert "access-control-allow-credentials" not in resp.headers


# ------------------------------------------------------ 10. owner-only files
def _mode(path):
    return path.stat().st_mode & 0o777


def test_data_is_created_owner_only(tmp_path, config, settings, user_id, portrait):
    import os

    import run
    from tests.helpers.app import png_bytes
    from portal.analyses.service import Analyses
    from portal.gradio_app.events import run_upload

    old = os.umask(0o022)  # what a shell usually has
    try:
        config = dataclasses.replace(config, data_dir=tmp_path / "fresh", database_url=str(tmp_path / "fresh" / "db.sqlite3"),
                              log_file=tmp_path / "logs" / "server.log")
        run.start(config)  # the server's start-up
        photo = tmp_path / "photo.png"
        photo.write_bytes(png_bytes(portrait))
        with db.connection():
            uid = db.create_user("olga", "olga@example.org", "x-not-a-hash").id
        out = run_upload(Analyses(data_dir=config.data_dir, settings=settings), uid, photo, "Portrait")
    finally:  # the test process keeps its umask and logging
        os.umask(old)
        for h in list(logging.getLogger().handlers):
            if getattr(h, "_emotion_portal_handler", False):
                logging.getLogger().removeHandler(h)
                h.close()
    assert _mode(config.data_dir) == 0o700
    files = [p for p in config.data_dir.rglob("*") if p.is_file()]
    assert config.data_dir / "db.sqlite3" in files and out.pdf_path in files
    assert len([p for p in files if "uploads" in p.parts]) == 2
    assert {str(p): _mode(p) for p in files} == {str(p): 0o600 for p in files}
    folders = [p for p in config.data_dir.rglob("*") if p.is_dir()]
    assert folders and all(_mode(p) == 0o700 for p in folders), [(p, oct(_mode(p))) for p in folders]
    assert _mode(config.log_file) == 0o600


def test_existing_world_readable_data_is_tightened(tmp_path, config):
    from portal.web.factory import create_app
    config.data_dir.mkdir(parents=True, mode=0o755)
    config.data_dir.chmod(0o755)
    create_app(config)
    db_file = config.data_dir / "app.sqlite3"
    db_file.chmod(0o644)
    create_app(config)  # restart
    assert _mode(config.data_dir) == 0o700 and _mode(db_file) == 0o600
