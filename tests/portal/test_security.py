"""Issue 9 (portal side): attacks reproduced over HTTP against the Flask portal.

Run them alone with ``pytest -m security``.
"""
import dataclasses

import pytest

import db
from portal.web.session import user_id_from_cookies
from tests.helpers import PASSWORD
from tests.helpers.web import add_computation, login, logout, post

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


# ------------------------------------------------------------ 2. rate limits
def _from(client, ip):
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_owner_is_not_locked_out_by_someone_elses_failures(app, client, alice):
    logout(client)
    attacker = _from(app.test_client(), "203.0.113.9")
    for _ in range(5):
        assert login(attacker, "alice", "wrong-password-1").status_code == 401
    assert login(attacker, "alice", PASSWORD).status_code == 429  # blocked, even with the password
    assert login(attacker, "ALICE", "wrong-password-1").status_code == 429  # case does not help
    assert login(_from(client, "198.51.100.7"), "alice", PASSWORD).status_code == 302  # the owner


def test_slower_per_username_and_per_ip_limits(tmp_path, config):
    from portal.web.factory import create_app
    app = create_app(dataclasses.replace(config, login_user_limit="6 per hour", login_ip_limit="7 per hour"))
    for i in range(6):  # one failure each from 6 addresses: the name is now slowed down
        assert login(_from(app.test_client(), f"10.1.0.{i}"), "alice", "bad-1").status_code == 401
    assert login(_from(app.test_client(), "10.1.0.99"), "alice", "bad-1").status_code == 429
    guesser = _from(app.test_client(), "10.2.0.1")  # one address, many names
    for i in range(7):
        assert login(guesser, f"user{i}", "bad-1").status_code == 401
    assert login(guesser, "someone", "bad-1").status_code == 429


def test_forwarded_for_is_ignored_unless_a_proxy_is_configured(config):
    from portal.web.factory import create_app
    plain = create_app(dataclasses.replace(config, login_ip_limit="3 per hour"))
    client = plain.test_client()
    for i in range(3):
        resp = login(client, f"name{i}", "bad-1")
        assert resp.status_code == 401
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{i}"  # spoofed: must not help
    assert login(client, "other", "bad-1").status_code == 429

    proxied = create_app(dataclasses.replace(config, login_ip_limit="3 per hour", proxy_count=1,
                                      trusted_proxies=("10.9.0.1",)))
    via_proxy = _from(proxied.test_client(), "10.9.0.1")
    for i in range(4):  # the proxy forwards 4 different clients: each has its own count
        via_proxy.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{i}"
        assert login(via_proxy, f"name{i}", "bad-1").status_code == 401
    direct = _from(proxied.test_client(), "10.9.0.2")  # not the proxy: its header is ignored
    for i in range(3):
        direct.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{50 + i}"
        assert login(direct, f"name{i}", "bad-1").status_code == 401
    assert login(direct, "name9", "bad-1").status_code == 429


def test_registration_is_rate_limited(app):
    from tests.helpers.web import register
    client = _from(app.test_client(), "10.3.0.1")
    for i in range(10):
        assert register(client, f"user{i}", password="x").status_code == 400
    resp = register(client, "late", password="x")
    assert resp.status_code == 429 and "Too many" in resp.text
    assert register(_from(app.test_client(), "10.3.0.2"), "bob").status_code == 302


def test_password_rechecks_are_rate_limited(client, alice):
    new = "Brand-New-Secret-9"
    for _ in range(3):
        resp = post(client, "/account/password",
                    {"current_password": "wrong-pass-1", "new_password": new, "confirm": new})
        assert resp.status_code == 400
    for _ in range(2):  # the same counter: the delete page re-checks the password too
        assert post(client, "/account/delete", {"password": "wrong-pass-1", "confirm": "y"}).status_code == 400
    resp = post(client, "/account/delete", {"password": PASSWORD, "confirm": "y"})
    assert resp.status_code == 429 and "Too many failed attempts" in resp.text
    resp = post(client, "/account/password", {"current_password": PASSWORD, "new_password": new,
                                               "confirm": new})
    assert resp.status_code == 429
    with db.connection():
        assert db.get_user(alice.id) is not None


def test_limits_are_shared_through_redis(config):
    import secrets

    import redis
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=2).ping()
    except redis.RedisError:
        pytest.skip("Redis not reachable at 127.0.0.1:6379")
    from portal.web.factory import create_app
    shared = dataclasses.replace(config, redis_url="redis://127.0.0.1:6379/0",
                          ratelimit_prefix=f"test-{secrets.token_hex(6)}")
    first = create_app(shared).test_client()   # two server processes would each build one
    for _ in range(5):
        assert login(first, "alice", "bad-1").status_code == 401
    second = create_app(shared).test_client()
    assert login(second, "alice", "bad-1").status_code == 429


# ------------------------------------------- 3. huge ids, huge pages, NUL bytes
HUGE = [2**63, 2**63 - 1, 2**64 + 5, 10**30]


def test_huge_ids_are_404_not_500(client, config, alice):
    add_computation(config, alice.id)
    for number in HUGE:
        for url in (f"/history/{number}", f"/history/{number}/pdf", f"/history/{number}/json",
                    f"/history/{number}/thumb", f"/history/{number}/image/original"):
            resp = client.get(url)
            assert resp.status_code == 404, (url, resp.status_code)
        assert post(client, f"/history/{number}/delete", {"confirm": "yes"}, page="/history").status_code == 404


def test_huge_or_odd_page_numbers(client, config, alice):
    add_computation(config, alice.id)
    for page in ("99999999999999999999999", str(2**63), "-9999999999999999999999", "0", "x"):
        resp = client.get(f"/history?page={page}")
        assert resp.status_code in (200, 302), (page, resp.status_code)
        if resp.status_code == 302:
            assert client.get(resp.headers["Location"]).status_code == 200
    resp = post(client, "/history/1/delete", {"page": str(10**30), "confirm": "yes"}, page="/history")
    assert resp.status_code == 302
    assert client.get(resp.headers["Location"]).status_code in (200, 302)


@pytest.mark.parametrize("url, data, logged_in", [
    ("/login", {"login": "ali\x00ce", "password": PASSWORD}, False),
    ("/login", {"login": "alice@example.org\x00", "password": "x\x00y"}, False),
    ("/register", {"username": "bo\x00b", "email": "bob@example.org", "password": PASSWORD,
                   "confirm": PASSWORD}, False),
    ("/account", {"full_name": "Eve\x00", "email": "alice@example.org", "organisation": ""}, True),
    ("/account/password", {"current_password": "\x00", "new_password": "Another-Secret-77\x00",
                           "confirm": "Another-Secret-77\x00"}, True),
])
def test_nul_bytes_in_text_fields_are_400(app, alice, url, data, logged_in):
    client = app.test_client()
    if logged_in:
        assert login(client, "alice").status_code == 302
    resp = post(client, url, data, page=url)
    assert resp.status_code == 400 and "NUL character" in resp.text, resp.status_code
    assert "Traceback" not in resp.text
    assert client.get("/history?q=\x00").status_code == 400
    with db.connection():  # nothing stored
        assert db.get_user_by_username("alice").full_name == ""
        assert db.User.select().count() == 1


# ------------------------------------------------ 4. database cannot be opened
def _break_database(config):
    """The database goes away under a running server."""
    if "://" in config.database_url:  # PostgreSQL: the server stops answering
        from playhouse import db_url
        db.database.obj.close()
        db.database.initialize(db_url.connect("postgresql://postgres@127.0.0.1:1/test?connect_timeout=2"))
    else:  # SQLite: the file's folder is gone (a file is in its way)
        import shutil
        db.database.obj.close()
        shutil.rmtree(config.data_dir)
        config.data_dir.write_text("not a folder")


def test_unreachable_database_gives_the_error_page(config):
    from fastapi.testclient import TestClient

    import run
    with TestClient(run.build_app(config, realtime=False), raise_server_exceptions=False) as http:
        _break_database(config)
        for url in ("/", "/login", "/menu", "/history/1", "/healthz"):
            resp = http.get(url, follow_redirects=False)
            assert resp.status_code == 503, (url, resp.status_code)
            assert "The database cannot be reached right now" in resp.text
            assert resp.text.rstrip().endswith("</html>") and "Traceback" not in resp.text
            assert resp.headers["Content-Security-Policy"]


# ------------------------------------------ 5. every copy goes; crash leftovers
def _downloads(config, comp):
    from portal.analyses.storage import downloads_dir
    from portal.analyses.downloads import write_downloads
    with db.connection():
        data = db.computation_to_dict(db.Computation.get_by_id(comp.id))
    pdf, js = write_downloads(downloads_dir(config.data_dir), data,
                              config.data_dir / comp.annotated_path, "alice")
    assert pdf.is_file() and js.is_file()
    return pdf.parent


def test_deleting_a_computation_removes_its_downloads(client, config, alice):
    gone, kept = add_computation(config, alice.id), add_computation(config, alice.id)
    gone_dirs = [_downloads(config, gone), _downloads(config, gone)]
    kept_dir = _downloads(config, kept)
    resp = post(client, f"/history/{gone.id}/delete", {"confirm": "yes"}, page="/history")
    assert resp.status_code == 302
    assert not any(d.exists() for d in gone_dirs)
    assert kept_dir.is_dir() and (config.data_dir / kept.annotated_path).is_file()


def test_deleting_the_account_removes_every_download(client, config, alice):
    dirs = [_downloads(config, add_computation(config, alice.id)) for _ in range(2)]
    resp = post(client, "/account/delete", {"password": PASSWORD, "confirm": "y"})
    assert resp.status_code == 302
    assert not any(d.exists() for d in dirs)
    assert not list((config.data_dir / "uploads").rglob("*"))


def test_start_up_removes_crash_leftovers(config, app, alice):
    import os
    import time

    from portal.web.factory import create_app
    comp = add_computation(config, alice.id)
    folder = config.data_dir / "uploads" / str(alice.id)
    orphan = folder / "20260101-000000-deadbeef.jpg"  # written, then SIGKILL before the INSERT
    orphan.write_bytes(b"\xff\xd8 face")
    empty = config.data_dir / "uploads" / "77"
    empty.mkdir()
    stale = _downloads(config, comp)
    young = folder / "20260101-000001-cafecafe.jpg"  # another process may be recording it now
    young.write_bytes(b"\xff\xd8 face")
    old = time.time() - 3600
    for path in (orphan, empty, stale, *stale.iterdir(), config.data_dir / comp.original_path):
        os.utime(path, (old, old))
    db.database.obj.close()
    create_app(config)  # the restart
    assert not orphan.exists() and not empty.exists() and not stale.exists()
    assert young.exists()
    assert (config.data_dir / comp.original_path).is_file()
    assert (config.data_dir / comp.annotated_path).is_file()


# ------------------------------------------------------------- 6. log injection
@pytest.fixture
def log_file(tmp_path):
    import logging

    from realtime.logsetup import configure_logging
    path = tmp_path / "logs" / "real.log"
    configure_logging(path, "INFO")
    yield path
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_emotion_portal_handler", False):
            root.removeHandler(handler)
            handler.close()


def test_newlines_in_user_input_cannot_forge_log_lines(client, log_file):
    forged = "2026-01-01 00:00:00,000 INFO [portal.web.auth] login ok user_id=1 ip=127.0.0.1"
    resp = login(client, f"mallory\n{forged}\r\x1b[2K", "wrong-password-1")
    assert resp.status_code == 401
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert not any(line.startswith("2026-01-01") for line in lines)  # no forged line
    failed = [line for line in lines if "login failed" in line]
    assert len(failed) == 1 and "login=mallory\\n2026-01-01" in failed[0]


# ------------------------------------------------ 7. production key and cookies
RANDOM_KEY = "3c9e1f7a5b2d8c40f6e19a7b3d5c2e8f1a4b7c0d9e6f3a2b"  # as secrets.token_hex(24) prints


@pytest.mark.parametrize("key", [
    "abcdefgh" * 4, "0123456789abcdef" * 2, "a1b2c3d4e5f6" * 4, "Password123" * 3,
    "thisismysecretkeyforproductionuse", "qwertyuiopasdfghjklzxcvbnm123456", "x" * 64,
])
def test_production_refuses_guessable_secret_keys(tmp_path, key):
    from portal.config import ConfigError, load_config, validate
    config = load_config({"DATA_DIR": str(tmp_path), "APP_ENV": "production", "SECRET_KEY": key})
    with pytest.raises(ConfigError, match="not a real secret") as info:
        validate(config)
    assert "secrets.token_hex(32)" in str(info.value)  # says how to make a good one


def test_production_accepts_generated_keys(tmp_path):
    import secrets

    from portal.config import load_config, validate
    keys = [RANDOM_KEY] + [secrets.token_hex(32) for _ in range(10)] + \
        [secrets.token_urlsafe(32) for _ in range(10)]
    for key in keys:
        validate(load_config({"DATA_DIR": str(tmp_path), "APP_ENV": "production", "SECRET_KEY": key}))


def _production(tmp_path, database_url, **env):
    from portal.web.factory import create_app
    from portal.config import load_config
    config = load_config({"DATA_DIR": str(tmp_path / "prod"), "APP_ENV": "production",
                          "SECRET_KEY": RANDOM_KEY, **env}, database_url=database_url,
                         password_hash_method="pbkdf2:sha256:1000", log_file=tmp_path / "p.log")
    return create_app(config)


def _login_cookies(client, **kwargs):
    from tests.helpers.web import register
    assert register(client, "carol", **kwargs).status_code == 302
    logout(client)
    resp = login(client, "carol", remember=True)
    assert resp.status_code == 302
    return [c for c in resp.headers.getlist("Set-Cookie") if c.split("=")[0] in ("session", "remember_token")]


def test_production_cookies_are_secure_behind_a_tls_proxy(tmp_path, database_url):
    app = _production(tmp_path, database_url, PROXY_COUNT="1", TRUSTED_PROXIES="127.0.0.1")
    client = app.test_client()  # plain HTTP from the proxy at 127.0.0.1, which says https
    client.environ_base.update(HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_HOST="localhost")
    client.environ_base["HTTP_REFERER"] = "https://localhost/"
    cookies = _login_cookies(client)
    assert len(cookies) == 2 and all("; Secure" in c for c in cookies), cookies


def test_production_cookies_are_secure_without_proxy_settings(tmp_path, database_url):
    cookies = _login_cookies(_production(tmp_path, database_url).test_client())
    assert len(cookies) == 2 and all("; Secure" in c for c in cookies), cookies


def test_production_refuses_insecure_cookies(tmp_path):
    from portal.config import ConfigError, load_config, validate
    config = load_config({"DATA_DIR": str(tmp_path), "APP_ENV": "production",
                          "SECRET_KEY": RANDOM_KEY, "COOKIE_SECURE": "0"})
    with pytest.raises(ConfigError, match="Secure cookies"):
        validate(config)


def test_forwarded_https_is_believed_only_from_the_configured_proxy(config):
    from portal.web.factory import create_app
    app = create_app(dataclasses.replace(config, proxy_count=1, trusted_proxies=("10.9.0.1",)))
    for peer, secure in (("10.9.0.1", True), ("10.9.0.2", False)):
        client = _from(app.test_client(), peer)
        client.environ_base.update(HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_HOST="localhost",
                                   HTTP_REFERER="https://localhost/")
        cookies = _login_cookies(client, email=f"carol{peer[-1]}@example.org") if secure else None
        if not secure:  # the header is ignored: plain HTTP, no Secure flag
            from tests.helpers.web import register
            resp = register(client, "dave")
            cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
        assert cookies and all(("; Secure" in c) == secure for c in cookies), (peer, cookies)


# --------------------------------------------------------- 8. weak passwords
@pytest.mark.parametrize("weak", ["password12345", "Welcome2026", "Qwerty123!", "iloveyou2026",
                                  "abcd1234abcd", "Monkey2025"])
def test_common_and_guessable_passwords_are_refused(client, weak):
    from tests.helpers.web import register
    resp = register(client, "erin", password=weak)
    assert resp.status_code == 400
    assert "too easy to guess" in resp.text or "too common" in resp.text
    assert "three or four unrelated words" in resp.text or "choose another" in resp.text
    with db.connection():
        assert db.get_user_by_username("erin") is None


def test_weak_new_password_is_refused_on_the_account_page(client, alice):
    resp = post(client, "/account/password", {"current_password": PASSWORD,
                                               "new_password": "Welcome2026", "confirm": "Welcome2026"})
    assert resp.status_code == 400 and "too easy to guess" in resp.text
    assert login(app_client := client.application.test_client(), "alice").status_code == 302
    assert app_client.get("/menu").status_code == 200  # the old password still works


def test_strong_passwords_are_accepted(client):
    from tests.helpers.web import register
    assert register(client, "frank", password="Tuba-Meadow-Quartz-81").status_code == 302


# ------------------------------------------------------ 11. quiet PDF logging
def test_one_pdf_adds_at_most_a_few_log_lines(client, config, alice, log_file):
    comp = add_computation(config, alice.id, title="Größe 日本 test")
    before = len(log_file.read_text(encoding="utf-8").splitlines())
    resp = client.get(f"/history/{comp.id}/pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    lines = log_file.read_text(encoding="utf-8").splitlines()[before:]
    assert not [line for line in lines if "fontTools" in line], lines[:3]
    assert len(lines) <= 3, lines  # the request line, at most a warning or two


# ------------------------------------------- 12. every character in the PDF
def _pdf_text(data: bytes) -> str:
    import io
    import unicodedata

    from pypdf import PdfReader
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return unicodedata.normalize("NFKC", text.replace("\x00", ""))  # Arabic presentation forms -> letters


def test_pdf_renders_or_marks_every_character(client, config, alice):
    from pathlib import Path

    from portal.analyses.pdf import FALLBACK_FONTS, MISSING
    title = "Visitors 😀 日本語 שלום مرحبا Ünïcödé"
    comp = add_computation(config, alice.id, title=title)
    with db.connection():
        db.Computation.update(notes="Notes: 你好 👍🏽 ✓").where(db.Computation.id == comp.id).execute()
    resp = client.get(f"/history/{comp.id}/pdf")
    assert resp.status_code == 200
    text = _pdf_text(resp.data)
    assert "Visitors" in text and "Ünïcödé" in text and "Notes:" in text
    assert set("שלום") <= set(text) and set("مرحبا") <= set(text)  # DejaVu draws both scripts
    for char in "😀日本語你好👍✓":  # drawn, or the visible marker: never silently gone
        assert char in text or MISSING in text, char
    installed = {family for family, path in FALLBACK_FONTS if Path(path).is_file()}
    if "NotoSansCJK" in installed:  # make install provides it where it can (fonts-noto-cjk)
        assert "日本語" in text and "你好" in text


def test_pdf_shapes_right_to_left_text():
    from portal.analyses.pdf import _Report
    pdf = _Report()
    pdf.setup_fonts("مرحبا")
    assert pdf.text_shaping, "uharfbuzz missing: Arabic would not be joined"
    assert pdf.text("a\u05d0\U0010fffd") == "a\u05d0\ufffd"  # an unknown glyph -> the marker
