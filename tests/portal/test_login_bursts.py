"""Issue 18 (Low): the login limits hold against parallel bursts.  Over real HTTP against run.py's
server, a guesser sends wrong passwords for one account all at once through the login form and
the API's ``POST /api/v1/token``, by name and by e-mail: together they get at most
``LOGIN_LIMIT`` answers that checked the password (401), every other one 429.  Before, the
form, the API, the name and the e-mail were four buckets, each checked before any attempt was
counted: 31 of 40 attempts were checked with a limit of 5 (now 5)."""
from __future__ import annotations

import threading

import httpx
import pytest
from tests.helpers import PASSWORD
from tests.helpers.live_server import live_server, portal_config
from tests.helpers.web import csrf_token, register

pytestmark = [pytest.mark.security, pytest.mark.timeout(120)]
LIMIT = 5
PER_CHANNEL = 10


@pytest.fixture
def server(tmp_path):
    config = portal_config(tmp_path, {"LOGIN_LIMIT": f"{LIMIT} per 15 minutes"})
    with live_server(config) as (url, _app):
        yield url


def _form_burst(url: str, login: str, start: threading.Barrier, codes: list) -> None:
    with httpx.Client(base_url=url, timeout=60) as web:
        token = csrf_token(web, "/login")
        start.wait()
        threads = [threading.Thread(target=lambda: codes.append(web.post(
            "/login", data={"login": login, "password": "wrong-Horse-1", "csrf_token": token}).status_code))
            for _ in range(PER_CHANNEL)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def _api_burst(url: str, login: str, start: threading.Barrier, codes: list) -> None:
    def one():
        with httpx.Client(base_url=url, timeout=60) as api:
            codes.append(api.post("/api/v1/token", data={"username": login,
                                                          "password": "wrong-Horse-1"}).status_code)
    start.wait()
    threads = [threading.Thread(target=one) for _ in range(PER_CHANNEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_parallel_bursts_through_form_and_api_by_name_and_email_stop_at_the_limit(server):
    with httpx.Client(base_url=server, timeout=30) as web:
        assert register(web, "alice", email="alice@example.org").status_code == 302
    codes: list[int] = []
    start = threading.Barrier(4)
    bursts = [threading.Thread(target=f, args=(server, name, start, codes))
              for f in (_form_burst, _api_burst) for name in ("alice", "Alice@Example.org")]
    for b in bursts:
        b.start()
    for b in bursts:
        b.join()
    checked = codes.count(401)
    assert len(codes) == 4 * PER_CHANNEL and set(codes) <= {401, 429}, codes
    assert checked == LIMIT, f"{checked} of {len(codes)} attempts checked the password (limit {LIMIT})"
    with httpx.Client(base_url=server, timeout=30) as api:  # blocked even with the password
        assert api.post("/api/v1/token", data={"username": "alice", "password": PASSWORD}).status_code == 429
