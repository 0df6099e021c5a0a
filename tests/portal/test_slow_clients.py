"""Issue 18, finding 1: slow clients cannot take the portal offline.  Over real HTTP against
run.py's server: a dozen anonymous connections that send half of a POST body and then nothing
(more than a2wsgi's 10 threads) leave /healthz, the login page and a real login answering
within a couple of seconds; the stalled ones get 408 after BODY_TIMEOUT, a trickling body 408
below BODY_MIN_RATE, and an announced oversized body 413 at once."""
from __future__ import annotations

import socket
import time

import httpx
import pytest
from tests.helpers import PASSWORD
from tests.helpers.live_server import live_server, portal_config
from tests.helpers.web import csrf_token, register

pytestmark = [pytest.mark.security, pytest.mark.timeout(120)]
SLOW_CLIENTS = 12  # a2wsgi runs the portal in 10 threads
BODY_TIMEOUT = 3


@pytest.fixture
def server(tmp_path):
    config = portal_config(tmp_path, {"BODY_TIMEOUT": str(BODY_TIMEOUT), "BODY_MIN_RATE": "100"})
    with live_server(config) as (url, _app):
        yield url


def half_post(url: str, length: int = 1000, sent: bytes = b"login=a") -> socket.socket:
    """``POST /login`` announcing ``length`` bytes of body and sending only ``sent``."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(b"POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (host.encode(), length, sent))
    return sock


def answer(sock: socket.socket, timeout: float) -> bytes:
    """What the server sends until it closes the connection (or ``timeout`` s pass)."""
    deadline, received = time.monotonic() + timeout, b""
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return received or b"(no answer within %g s)" % timeout


def timed(call, *args, **kwargs):
    t0 = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - t0


def test_stalled_bodies_do_not_freeze_the_portal(server):
    with httpx.Client(base_url=server, timeout=5) as web:
        assert register(web, "alice").status_code == 302
    slow = [half_post(server) for _ in range(SLOW_CLIENTS)]
    try:
        time.sleep(0.5)  # every one of them is now waiting for the rest of its body
        with httpx.Client(base_url=server, timeout=5) as web:
            health, t_health = timed(web.get, "/healthz")
            page, t_page = timed(web.get, "/login")
            token = csrf_token(web, "/login")
            login, t_login = timed(web.post, "/login", data={"login": "alice", "password": PASSWORD,
                                                             "csrf_token": token})
        assert health.status_code == 200 and page.status_code == 200
        assert login.status_code == 302, login.text  # logged in
        assert max(t_health, t_page, t_login) < 2.0, (t_health, t_page, t_login)
        t0 = time.monotonic()
        answers = [answer(sock, BODY_TIMEOUT + 10) for sock in slow]
        waited = time.monotonic() - t0
    finally:
        for sock in slow:
            sock.close()
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), answers[0]
    assert b"The request body stopped arriving (nothing for 3 s)" in answers[0]
    assert b"connection: close" in answers[0].lower()
    assert waited < BODY_TIMEOUT + 5


def test_trickling_and_oversized_bodies_are_refused(server):
    trickle = half_post(server, sent=b"l")
    try:
        t0 = time.monotonic()
        for byte in b"ogin=alice&password=":  # one byte every 0.4 s: 2.5 bytes/s, below 100
            time.sleep(0.4)
            try:
                trickle.sendall(bytes([byte]))
            except OSError:  # refused and closed meanwhile
                break
        reply = answer(trickle, 10)
        assert reply.startswith(b"HTTP/1.1 408 ") and b"arrived too slowly" in reply, reply
        assert time.monotonic() - t0 < BODY_TIMEOUT + 5
    finally:
        trickle.close()
    big = half_post(server, length=50 * 2**20, sent=b"")  # announces 50 MB, sends nothing
    try:
        reply = answer(big, 3)  # refused at once, from the header
        assert reply.startswith(b"HTTP/1.1 413 ") and b"at most 2 MB" in reply, reply
    finally:
        big.close()


def test_malformed_limits_refuse_to_start(tmp_path):
    from portal.config import ConfigError, validate

    with pytest.raises(ConfigError, match="BODY_TIMEOUT must be a number, not 'soon'"):
        portal_config(tmp_path, {"BODY_TIMEOUT": "soon"})
    with pytest.raises(ConfigError, match="FRAME_ANALYSES must be positive"):
        validate(portal_config(tmp_path, {"FRAME_ANALYSES": "0"}))
    config = portal_config(tmp_path, {"BODY_MIN_RATE": "0", "FRAME_MAX_PIXELS": "921600", "KEEPALIVE_TIMEOUT": "2"})
    assert (config.body_min_rate, config.frame_max_pixels, config.keepalive_timeout_s) == (0, 921600, 2)
    import run
    assert run.server_options(config)["timeout_keep_alive"] == 2
