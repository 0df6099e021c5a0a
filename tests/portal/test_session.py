"""The session-cookie helper that lets the ASGI side (Gradio) know the user."""
import pytest
from a2wsgi import WSGIMiddleware
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

import db
from portal.web.session import auth_dependency, current_user_id, user_id_from_cookies
from tests.helpers import PASSWORD
from tests.helpers.web import csrf_token, post


def root_app(flask_app):
    """Like run.build_app: an ASGI route beside the Flask portal."""
    api = FastAPI()

    @api.get("/whoami")
    def whoami(request: Request):
        return {"user_id": current_user_id(request, flask_app),
                "dep": auth_dependency(flask_app)(request)}

    api.mount("/", WSGIMiddleware(flask_app))
    return api


def browser_login(client, username="alice", remember=False):
    token = csrf_token(client, "/register")
    client.post("/register", data={"username": username, "email": f"{username}@example.org",
                                   "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token})
    token = csrf_token(client, "/menu")
    client.post("/logout", data={"csrf_token": token})
    token = csrf_token(client, "/login")
    data = {"login": username, "password": PASSWORD, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    resp = client.post("/login", data=data)
    assert resp.status_code == 302, resp.text


def test_logged_in_user_is_seen_through_asgi(app):
    with TestClient(root_app(app), follow_redirects=False) as browser:
        assert browser.get("/whoami").json() == {"user_id": None, "dep": None}
        browser_login(browser)
        with db.connection():
            alice = db.get_user_by_username("alice")
        assert browser.get("/whoami").json() == {"user_id": alice.id, "dep": str(alice.id)}
        assert browser.get("/menu").status_code == 200  # same cookie works for Flask
        token = csrf_token(browser, "/menu")
        browser.post("/logout", data={"csrf_token": token})
        assert browser.get("/whoami").json()["user_id"] is None


def test_tampered_or_foreign_cookies_are_refused(app, client, alice):
    cookie = client.get_cookie("session").value
    assert user_id_from_cookies(app, {"session": cookie}) == alice.id
    assert user_id_from_cookies(app, {"session": cookie[:-2] + "xx"}) is None
    assert user_id_from_cookies(app, {"session": "garbage"}) is None
    assert user_id_from_cookies(app, {}) is None
    other = app.__class__(__name__)  # same cookie signed with another key is refused
    other.config.update(SECRET_KEY="another-key-" * 4, SESSION_COOKIE_NAME="session")
    from flask.sessions import SecureCookieSessionInterface
    forged = SecureCookieSessionInterface().get_signing_serializer(other).dumps(
        {"_user_id": f"{alice.id}:{alice.auth_token}"})
    assert user_id_from_cookies(app, {"session": forged}) is None


def test_remember_cookie_alone_is_honoured(app, client, alice):
    post(client, "/logout", page="/menu")
    resp = post(client, "/login", {"login": "alice", "password": PASSWORD, "remember": "y"})
    assert resp.status_code == 302
    remember = client.get_cookie("remember_token").value
    assert user_id_from_cookies(app, {"remember_token": remember}) == alice.id
    assert user_id_from_cookies(app, {"remember_token": remember[:-3] + "abc"}) is None


def test_password_change_and_deletion_cut_off_old_cookies(app, client, alice):
    cookie = client.get_cookie("session").value
    new = "Brand-New-Secret-9"
    post(client, "/account/password",
         {"current_password": PASSWORD, "new_password": new, "confirm": new})
    assert user_id_from_cookies(app, {"session": cookie}) is None
    fresh = client.get_cookie("session").value
    assert user_id_from_cookies(app, {"session": fresh}) == alice.id
    post(client, "/account/delete", {"password": new, "confirm": "y"})
    assert user_id_from_cookies(app, {"session": fresh}) is None


@pytest.mark.slow
def test_gradio_mount_refuses_anonymous_and_admits_portal_users(tmp_path):
    """Gradio 6 with our auth_dependency, as run.mount_realtime mounts it (SQLite only)."""
    import gradio as gr
    from portal.web.factory import create_app
    from portal.config import load_config
    app = create_app(load_config({}, data_dir=tmp_path, password_hash_method="pbkdf2:sha256:1000",
                                 log_file=tmp_path / "app.log"))
    with gr.Blocks() as blocks:
        gr.Markdown("hello")
    api = FastAPI()
    gr.mount_gradio_app(api, blocks, path="/app", auth_dependency=auth_dependency(app))
    api.mount("/", WSGIMiddleware(app))
    with TestClient(api, follow_redirects=False) as browser:
        for url in ("/app/", "/app/config", "/app/gradio_api/info"):
            assert browser.get(url).status_code in (401, 403), url
        browser_login(browser)
        assert browser.get("/app/").status_code == 200
        assert browser.get("/app/config").status_code == 200
