"""Start-up, configuration, errors, logging, headers, and the real server."""
import logging
import re
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import db
from portal.config import ConfigError, load_config, validate
from portal.web.factory import create_app
from realtime.logsetup import configure_logging
from tests.helpers import PASSWORD
from tests.helpers.web import post, register

GOOD_KEY = "9f4c2e7a1b8d36f05e2a9c7b4d1f8e630a5c2b9e7d4f1a8c"  # random, as generated


def test_start_on_empty_data_dir(tmp_path):
    data = tmp_path / "fresh"
    config = load_config({"DATA_DIR": str(data)})
    assert config.database_url == str(data / "app.sqlite3")
    app = create_app(config)
    key_file = data / "secret_key"
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert app.config["SECRET_KEY"] == key_file.read_text().strip() and len(app.secret_key) == 64
    assert (data / "app.sqlite3").exists()
    with db.connection():
        assert db.current_version(db.database.obj) == db.LATEST_VERSION
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert register(client, "first").status_code == 302
    # a restart keeps the key (sessions survive) and the data
    again = load_config({"DATA_DIR": str(data)})
    assert again.secret_key == config.secret_key and again.secret_key_source == "file"
    app2 = create_app(again)
    client2 = app2.test_client()
    client2.set_cookie("session", client.get_cookie("session").value)
    assert client2.get("/menu").status_code == 200


def test_environment_settings(tmp_path):
    config = load_config({"DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://u@h/d",
                          "LOG_FILE": str(tmp_path / "x.log"), "SECRET_KEY": GOOD_KEY,
                          "LOGIN_LIMIT": "3 per minute", "PROXY_COUNT": "1",
                          "TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}, port=9000)
    assert config.database_url == "postgresql://u@h/d" and config.secret_key == GOOD_KEY
    assert config.log_file == tmp_path / "x.log" and config.port == 9000
    assert config.login_limit == "3 per minute" and config.secret_key_source == "env"
    assert config.proxy_count == 1 and config.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")
    assert not (tmp_path / "secret_key").exists()
    assert GOOD_KEY not in repr(config)


@pytest.mark.parametrize("env, message", [
    ({"APP_ENV": "production"}, "needs SECRET_KEY"),
    ({"APP_ENV": "production", "SECRET_KEY": "changeme"}, "not a real secret"),
    ({"APP_ENV": "production", "SECRET_KEY": "x" * 40}, "not a real secret"),
    ({"APP_ENV": "production", "SECRET_KEY": "short-but-random-7Qz"}, "not a real secret"),
    ({"APP_ENV": "production", "SECRET_KEY": GOOD_KEY, "DEBUG": "1"}, "debug"),
    ({"APP_ENV": "staging"}, "APP_ENV must be"),
])
def test_production_refuses_unsafe_settings(tmp_path, env, message):
    config = load_config({"DATA_DIR": str(tmp_path), **env})
    with pytest.raises(ConfigError, match=message):
        validate(config)
    with pytest.raises(ConfigError):
        create_app(config)
    if env["APP_ENV"] == "production":
        assert not (tmp_path / "secret_key").exists()  # never generated in production


def test_production_starts_with_a_real_key(tmp_path):
    config = load_config({"DATA_DIR": str(tmp_path), "APP_ENV": "production",
                          "SECRET_KEY": GOOD_KEY})
    app = create_app(config)
    assert app.test_client().get("/").status_code == 200 and not app.debug


def test_run_py_refuses_to_start_in_unsafe_production(tmp_path, monkeypatch):
    import run
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LOG_FILE", str(tmp_path / "app.log"))
    try:
        assert run.main(["--port", "1"]) == 2
        assert "refusing to start" in (tmp_path / "app.log").read_text()
    finally:
        configure_logging(tmp_path / "reset.log")
        for h in list(logging.getLogger().handlers):
            if getattr(h, "_emotion_handler", False):
                logging.getLogger().removeHandler(h)
                h.close()


def test_friendly_404_and_500_without_traceback(app, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom-secret-detail")

    client = app.test_client()
    resp = client.get("/no/such/page")
    assert resp.status_code == 404 and "Page not found" in resp.text
    assert '<html lang="en">' in resp.text

    with caplog.at_level(logging.ERROR):
        resp = client.get("/boom")
    assert resp.status_code == 500 and "Something went wrong" in resp.text
    assert "Traceback" not in resp.text and "kaboom" not in resp.text
    record = next(r for r in caplog.records if "unhandled error" in r.getMessage())
    assert record.exc_info and "kaboom-secret-detail" in str(record.exc_info[1])


def test_method_not_allowed_is_friendly(client):
    resp = client.get("/logout")
    assert resp.status_code == 405 and "Method not allowed" in resp.text


def test_security_headers(client):
    resp = client.get("/")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]


def test_pages_use_local_assets_only(app, client, alice):
    anonymous = app.test_client()
    pages = [(anonymous, u) for u in ("/", "/login", "/register", "/nope")] + [
        (client, u) for u in ("/menu", "/account", "/history", "/account/password",
                              "/account/delete")]
    for browser, url in pages:
        resp = browser.get(url)
        assert resp.status_code == (404 if url == "/nope" else 200), url
        assert not re.search(r'(src|href)="(https?:)?//', resp.text), url
        assert 'href="/static/style.css"' in resp.text, url
    assert client.get("/static/style.css").status_code == 200


def test_request_and_login_logging_without_secrets(client, caplog):
    with caplog.at_level(logging.INFO):
        register(client, "carol")
        post(client, "/logout", page="/menu")
        post(client, "/login", {"login": "carol", "password": "Wrong-Password-77"})
        post(client, "/login", {"login": "carol", "password": PASSWORD})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert re.search(r"GET /register 200 \d+\.\dms user=-", text)
    assert re.search(r"POST /login 302 \d+\.\dms", text)
    assert "login failed: login=carol" in text and "login ok user_id=" in text
    assert "registered user_id=" in text
    assert PASSWORD not in text and "Wrong-Password-77" not in text
    assert client.get_cookie("session").value not in text


def test_configure_logging_writes_rotating_file(tmp_path):
    path = tmp_path / "logs" / "app.log"
    root = logging.getLogger()
    level = root.level
    try:
        configure_logging(path, "INFO")
        configure_logging(path, "INFO")  # idempotent: one file handler
        mine = [h for h in root.handlers if getattr(h, "_emotion_handler", False)]
        assert len(mine) == 2
        logging.getLogger("portal.test").info("hello log file")
        for h in mine:
            h.flush()
        assert "INFO [portal.test] hello log file" in path.read_text()
    finally:
        for h in list(root.handlers):
            if getattr(h, "_emotion_handler", False):
                root.removeHandler(h)
                h.close()
        root.setLevel(level)


@pytest.mark.slow
def test_real_server_counts_parallel_requests(config):
    """run.build_app served by uvicorn; 24 parallel requests, each recording a
    computation for the same user: the count must be exactly 24."""
    import httpx
    import uvicorn
    from flask_login import current_user, login_required

    import run

    root = run.build_app(config, realtime=False)
    flask_app = root.state.flask_app

    @flask_app.post("/_test/record")
    @login_required
    def record():
        comp = db.record_computation(owner_id=current_user.id, kind="upload", title="t", result={"faces": []},
                                     faces_found=0, dominant_emotion=None, timings={"total": 1.0},
                                     model_version="test")
        return {"id": comp.id}

    flask_app.extensions["csrf"].exempt(record)
    server = uvicorn.Server(uvicorn.Config(root, host="127.0.0.1", port=0, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base) as browser:
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                              browser.get("/register").text).group(1)
            resp = browser.post("/register", data={
                "username": "para", "email": "para@example.org", "password": PASSWORD,
                "confirm": PASSWORD, "csrf_token": token})
            assert resp.status_code == 302
            cookies = dict(browser.cookies)
        assert httpx.get(base + "/_test/record").status_code == 405

        def hit(_):
            return httpx.post(base + "/_test/record", cookies=cookies, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(hit, range(24)))
        assert codes == [200] * 24
        assert httpx.post(base + "/_test/record").status_code == 302  # anonymous
        with db.connection():
            user = db.get_user_by_username("para")
            assert user.computation_count == 24
            assert db.count_computations(user.id) == 24
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_menu_has_a_museums_card(client):
    register(client, "curator")
    page = client.get("/menu").text
    cards = re.findall(r'<a class="tile" href="([^"]+)"', page)
    assert "/organisations" in cards and "/videos" in cards, cards
