"""Only users logged in to the portal reach /app, every one of its routes; the log-out button works."""
from __future__ import annotations

import pytest

from tests.helpers.app import csrf_token, register


# (method, path): pages, config, API info, queue, uploads, streams, files, assets...
ROUTES = [
    ("GET", "/app"), ("GET", "/app/"), ("GET", "/app/?tab=upload"), ("GET", "/app/config"),
    ("GET", "/app/gradio_api/info"), ("GET", "/app/gradio_api/openapi.json"),
    ("POST", "/app/gradio_api/queue/join"), ("GET", "/app/gradio_api/queue/data?session_hash=abc"),
    ("POST", "/app/gradio_api/upload"), ("GET", "/app/gradio_api/upload_progress?upload_id=x"),
    ("POST", "/app/gradio_api/stream/abc"), ("POST", "/app/gradio_api/stream/abc/close"),
    ("GET", "/app/gradio_api/heartbeat/abc"), ("POST", "/app/gradio_api/cancel"),
    ("POST", "/app/gradio_api/run/predict"), ("POST", "/app/gradio_api/call/predict"),
    ("GET", "/app/gradio_api/file=/etc/passwd"), ("GET", "/app/theme.css"),
    ("GET", "/app/assets/index.js"), ("GET", "/app/static/img/logo.svg"), ("GET", "/app/manifest.json"),
    ("GET", "/app/gradio_api/runs"), ("POST", "/app/login"), ("GET", "/app/monitoring"),
]





@pytest.mark.parametrize("method, path", ROUTES)
def test_anonymous_requests_are_refused(client, method, path):
    r = client.request(method, path, headers={"accept": "application/json"})
    assert r.status_code == 401, (method, path, r.status_code)


def test_anonymous_page_visit_goes_to_login_and_back(client):
    r = client.get("/app/?tab=live", headers={"accept": "text/html"})
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fapp%2F%3Ftab%3Dlive"


def test_forged_or_stale_cookies_are_refused(client):
    client.cookies.set("session", "eyJfdXNlcl9pZCI6IjEifQ.forged.signature")
    assert client.get("/app/config").status_code == 401
    client.cookies.clear()
    client.cookies.set("remember_token", "1|deadbeef")
    assert client.get("/app/config").status_code == 401


def test_logged_in_user_reaches_the_app_then_logs_out(client):
    register(client)
    page = client.get("/app/")
    assert page.status_code == 200 and "gradio" in page.text.lower()
    config = client.get("/app/config")
    assert config.status_code == 200 and config.json()["username"] == "1"
    assert client.get("/app/theme.css").status_code == 200
    # the header's log-out button: a token signed for this session, accepted by the portal
    from portal.gradio_app.header import logout_token
    client.get("/menu")
    token = logout_token(client.app.state.flask_app, dict(client.cookies))
    assert token
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/app/config").status_code == 401
    assert client.get("/app/", headers={"accept": "text/html"}).status_code == 303


def test_no_logout_token_without_a_session(flask_app):
    from portal.gradio_app.header import header_html, logout_token

    assert logout_token(flask_app, {}) is None
    html = header_html("<alice>", None)
    assert "&lt;alice&gt;" in html and 'href="/menu"' in html and "Log out" in html
    assert 'action="/logout"' in header_html("alice", "tok")


def test_settings_from_env():
    from portal.config import analysis_settings_from_env as settings_from_env

    s = settings_from_env({"EMOTION_MODEL": "/m.onnx", "LIVE_DETECTOR": "short", "UPLOAD_MAX_MB": "5"})
    assert s.model_path == "/m.onnx" and s.live_detector == "short"
    assert s.max_upload_bytes == 5 * 1024 * 1024
    with pytest.raises(ValueError, match="unknown detector"):
        settings_from_env({"UPLOAD_DETECTOR": "nope"})


def test_app_pages_have_a_favicon_and_the_portals_links(client):
    """/favicon.ico was 404 for the /app pages; their header lacked Videos and Museums."""
    register(client)
    for path in ("/favicon.ico", "/app/favicon.ico"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml"), path
        assert b"<svg" in r.content
    assert 'rel="icon" href="/static/favicon.svg"' in (client.get("/app/config").json().get("head") or "")
    from portal.gradio_app.header import header_html
    html = header_html("alice", None)
    for href in ("/menu", "/videos", "/history", "/organisations", "/account"):
        assert f'href="{href}"' in html, href
