import pytest

import db
from portal.accounts.passwords import password_problem
from tests.helpers import PASSWORD
from tests.helpers.web import csrf_token, login, logout, post, register

PROTECTED = ["/menu", "/account", "/account/password", "/account/delete", "/history",
             "/history/1", "/history/1/pdf", "/history/1/json", "/history/1/thumb",
             "/history/1/image/annotated"]


def test_landing_explains_product_and_offers_login(client):
    page = client.get("/").get_data(as_text=True)
    assert "facial expression" in page and "happy" in page
    assert 'href="/login"' in page and 'href="/register"' in page


@pytest.mark.parametrize("url", PROTECTED)
def test_anonymous_is_sent_to_login(client, url):
    resp = client.get(url)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")


def test_register_logs_in_and_stores_hash(client):
    resp = register(client, "alice", full_name="Alice Doe", organisation="Museum")
    assert resp.status_code == 302 and resp.headers["Location"] == "/menu"
    menu = client.get("/menu").get_data(as_text=True)
    assert "Hello, Alice Doe" in menu and "Live webcam" in menu and "Upload photo" in menu
    with db.connection():
        row = db.get_user_by_username("alice")
    assert row.organisation == "Museum"
    assert PASSWORD not in row.password_hash and row.password_hash.startswith("pbkdf2:")


@pytest.mark.parametrize("changes, message", [
    ({"username": ""}, "Choose a username."),
    ({"username": "ab"}, "3 to 40 characters"),
    ({"username": "bad name!"}, "Use only letters, digits"),
    ({"email": "not-an-email"}, "Enter a valid e-mail address"),
    ({"email": ""}, "Enter your e-mail address."),
    ({"password": "short1", "confirm": "short1"}, "at least 10 characters"),
    ({"password": "password123", "confirm": "password123"}, "too common"),
    ({"password": "aaaaaaaaaaaa", "confirm": "aaaaaaaaaaaa"}, "too common"),
    ({"password": "bobby-secret-77", "confirm": "bobby-secret-77"}, "must not contain your username"),
    ({"confirm": "Something-else-1"}, "The two passwords do not match."),
    ({"full_name": "x" * 101}, "At most 100 characters."),
])
def test_register_field_errors(client, changes, message):
    data = {"username": "bobby", "email": "bobby@example.org", "password": PASSWORD,
            "confirm": PASSWORD, **changes}
    resp = post(client, "/register", data)
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    with db.connection():
        assert db.get_user_by_username("bobby") is None


def test_register_duplicates(client, alice):
    logout(client)
    resp = register(client, "ALICE", email="other@example.org")
    assert resp.status_code == 400 and "This username is already registered." in resp.text
    resp = register(client, "alice2", email="Alice@Example.org")
    assert resp.status_code == 400 and "This e-mail address is already registered." in resp.text


def test_login_by_username_or_email_and_logout(client, alice):
    logout(client)
    assert client.get("/menu").status_code == 302
    resp = login(client, "alice")
    assert resp.status_code == 302 and resp.headers["Location"] == "/menu"
    logout(client)
    assert login(client, "ALICE@example.org").status_code == 302
    assert client.get("/menu").status_code == 200
    resp = logout(client)
    assert resp.headers["Location"] == "/"
    assert client.get("/menu").status_code == 302


def test_login_errors(client, alice):
    logout(client)
    resp = login(client, "alice", "wrong-password-1")
    assert resp.status_code == 401 and "Wrong username/e-mail or password." in resp.text
    resp = login(client, "nobody", PASSWORD)
    assert resp.status_code == 401 and "Wrong username/e-mail or password." in resp.text
    resp = post(client, "/login", {"login": "", "password": ""})
    assert resp.status_code == 400
    assert "Enter your username or e-mail." in resp.text and "Enter your password." in resp.text


def test_login_follows_safe_next_only(client, alice):
    logout(client)
    assert login(client, next_url="/history").headers["Location"] == "/history"
    logout(client)
    assert login(client, next_url="https://evil.example/x").headers["Location"] == "/menu"
    logout(client)
    assert login(client, next_url="//evil.example").headers["Location"] == "/menu"


def test_remember_me_cookie_and_cookie_flags(client, alice):
    logout(client)
    resp = login(client, remember=True)
    cookies = resp.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    session = [c for c in cookies if c.startswith("session=")]
    assert remember and session
    for cookie in remember + session:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # plain HTTP here
    # the remember cookie alone logs the user back in
    client.delete_cookie("session")
    assert client.get("/menu").status_code == 200


def test_cookies_are_secure_over_https(client, alice):
    logout(client)
    token = csrf_token(client, "/login")
    resp = client.post("/login", base_url="https://localhost",
                       data={"login": "alice", "password": PASSWORD, "csrf_token": token},
                       headers={"Referer": "https://localhost/login"})
    assert resp.status_code == 302
    for cookie in resp.headers.getlist("Set-Cookie"):
        assert "Secure" in cookie


def test_forms_without_csrf_token_are_refused(client, alice):
    resp = client.post("/logout")
    assert resp.status_code == 400 and "This form has expired" in resp.text
    assert "Traceback" not in resp.text
    assert client.get("/menu").status_code == 200  # still logged in
    resp = client.post("/register", data={"username": "x", "email": "x@example.org",
                                          "password": PASSWORD, "confirm": PASSWORD})
    assert resp.status_code == 400


def test_login_rate_limit(client, config, alice):
    logout(client)
    for _ in range(5):  # LOGIN_LIMIT: 5 per 15 minutes per IP + name
        assert login(client, "alice", "wrong-password-1").status_code == 401
    resp = login(client, "alice", PASSWORD)
    assert resp.status_code == 429 and "Too many failed attempts" in resp.text
    assert 800 < int(resp.headers["Retry-After"]) <= 900
    assert client.get("/menu").status_code == 302


def test_password_rules():
    assert password_problem("short") == "Use at least 10 characters."
    assert "too common" in password_problem("Password123")
    assert "username" in password_problem("xx-alice-2024-yy", username="alice")
    assert "e-mail" in password_problem("xx-bob.smith-yy", email="bob.smith@example.org")
    assert password_problem(PASSWORD, "alice", "alice@example.org") is None
    assert "at most" in password_problem("a1b2c3d4" * 20)
