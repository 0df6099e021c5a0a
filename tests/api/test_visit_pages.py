"""The visitor's phone page of an opted-in visit (issue 21) over HTTP: the code's URL shows the
visited exhibits, three suggestions with reasons and what is kept; "End my visit" (CSRF) deletes
everything at once; wrong codes get a friendly 404, guessing is limited per address (one counter
with the API), and no code ever reaches the log."""
from __future__ import annotations

import logging

import httpx

import db
from db import visits as visit_table
from db.observations import Observation, RecordingSession
from tests.helpers import TOKEN_RE

from .test_api_visits import _museum, _record, _start, config_overrides  # noqa: F401 (4 guesses)


def _csrf(page: str) -> str:
    m = TOKEN_RE.search(page)
    return m.group(1) or m.group(2)


def test_phone_page_shows_suggestions_and_ends_the_visit(server, users, caplog):
    caplog.set_level(logging.INFO)
    alice = users["alice"]
    org, ids = _museum(alice)
    code = _start(alice, org)["code"]
    sess = alice.post("/sessions", json={"exhibit_id": ids["Clowns"], "visit_code": code}).json()["id"]
    _record(sess, {1: (["happy"] * 4, 50.0)})
    with httpx.Client(base_url=server.url, timeout=60) as phone:
        page = phone.get(f"/visit/{code.lower().replace('-', ' ')}")  # as typed on a phone
        assert page.status_code == 200, page.text
        assert page.headers["cache-control"] == "no-store" and "noindex" in page.headers["x-robots-tag"]
        text = page.text
        for words in ("Garden", "You looked happy", "Clowns", code, "until the end of the day",
                      "No image", "never the face", "End my visit and delete its data"):
            assert words in text, words
        assert text.count('class="card suggestion"') <= 3
        assert phone.post(f"/visit/{code}/end").status_code == 400  # no CSRF token: nothing deleted
        assert phone.get(f"/visit/{code}").status_code == 200
        ended = phone.post(f"/visit/{code}/end", data={"csrf_token": _csrf(text)})
        assert ended.status_code == 200 and "deleted" in ended.text
        gone = phone.get(f"/visit/{code}")
        assert gone.status_code == 404 and "There is no visit with this code" in gone.text
    with db.connection():
        assert visit_table.Visit.select().count() == 0 and visit_table.VisitSession.select().count() == 0
        assert RecordingSession.get_or_none(RecordingSession.id == sess) is None
        assert Observation.select().where(Observation.session == sess).count() == 0
    server_log = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    raw = code.replace("-", "")
    assert code not in server_log and raw not in server_log and raw.lower() not in server_log
    assert "/visit/<code>" in server_log


def test_phone_page_guessing_is_limited_with_the_api(server, users, anon):
    alice = users["alice"]
    org = alice.post("/organisations", json={"name": "Tate"}).json()["id"]
    code = _start(alice, org)["code"]
    with httpx.Client(base_url=server.url, timeout=60) as phone:
        for guess in ("AAAA-AAAA-AAAA", "nonsense", "0000-0000-0001"):
            r = phone.get(f"/visit/{guess}")
            assert r.status_code == 404 and "no visit with this code" in r.text
        assert anon.get("/visits/BBBB-BBBB-BBBB/suggestions").status_code == 404  # the 4th, by the API
        r = phone.get(f"/visit/{code}")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0  # even the right code
        assert phone.post(f"/visit/{code}/end").status_code in (400, 429)
    assert anon.get(f"/visits/{code}/suggestions").status_code == 429
    with db.connection():
        assert visit_table.Visit.select().count() == 1
