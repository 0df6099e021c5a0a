"""How often a suggested exhibit was visited next (issue 21), over HTTP with known answers:
each showing of suggestions is stored with the visit, the visit's next new exhibit is counted
as suggested or not, the organisation's page reports the share with Wilson's interval against
a random baseline (members only, viewers too), and deleting a visit (API, phone page, expiry)
leaves no row of ``visit_suggestions`` while the counts, linked to no visit, stay."""
from __future__ import annotations

import datetime as _dt

import httpx

import db
from db import visit_outcomes as outcomes
from db.museum import Membership
from tests.helpers import TOKEN_RE
from tests.helpers.api import portal_login

from .test_api_visits import _museum, _start, config_overrides  # noqa: F401 (4 guesses)


def _shown(anon, code: str) -> set[int]:
    r = anon.get(f"/visits/{code}/suggestions")
    assert r.status_code == 200, r.text
    return {s["exhibit_id"] for s in r.json()["suggestions"]}


def _go(client, code: str, exhibit_id: int) -> int:
    r = client.post("/sessions", json={"exhibit_id": exhibit_id, "visit_code": code})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _rows(code_visit_ids=None) -> int:
    with db.connection():
        return outcomes.VisitSuggestion.select().count()


def _walk(alice, anon, ids) -> tuple[str, str]:
    """Visit A: shown 3 of 4, goes to the 4th (a miss, odds 3/4).  Visit B: records at Clowns
    before any showing (not counted), is shown the other 3, goes to War (a hit, 3/3), is shown
    Garden and Fountain, goes back to Clowns (a return: not counted), then to Fountain (a hit,
    2/2).  Moves 3, hits 2, chance 2.75."""
    a, b = _start(alice, ids["org"])["code"], _start(alice, ids["org"])["code"]
    first = _shown(anon, a)
    assert len(first) == 3 and _shown(anon, a) == first  # a reload stores nothing new
    assert _rows() == 3
    _go(alice, a, (set(ids["all"]) - first).pop())
    _go(alice, b, ids["Clowns"])
    assert _shown(anon, b) == {ids["Garden"], ids["War"], ids["Fountain"]}
    _go(alice, b, ids["War"])
    assert _shown(anon, b) == {ids["Garden"], ids["Fountain"]}
    _go(alice, b, ids["Clowns"])
    _go(alice, b, ids["Fountain"])
    return a, b


def test_suggested_then_visited_next_is_counted_and_reported(server, users, anon):
    alice, carol = users["alice"], users["carol"]
    org, ids = _museum(alice)
    ids = {**ids, "org": org, "all": list(ids.values())}
    a, b = _walk(alice, anon, ids)
    with db.connection():
        assert outcomes.outcome_totals(org) == {"visits": 2, "moves": 3, "hits": 2, "chance": 2.75}
        Membership.create(organisation=org, user=db.get_user_by_username("carol").id, role="viewer")
    assert anon.delete(f"/visits/{a}").status_code == 204
    for name in ("alice", "carol"):  # the owner, a viewer
        page = portal_login(server.url, name).get(f"/organisations/{org}/visits")
        assert page.status_code == 200, page.text
        for words in ("Visits shown suggestions</th><td>2", "2 of 3", "67%", "(95% interval 21–94%)",
                      "92%", "Too few to say much", "Observational", "may have gone there anyway"):
            assert words in page.text, (name, words)
    assert portal_login(server.url, "bob").get(f"/organisations/{org}/visits").status_code == 404
    assert portal_login(server.url, "bob").get("/organisations/99999/visits").status_code == 404
    assert httpx.get(f"{server.url}/organisations/{org}/visits").status_code == 302  # log in first
    assert f"/organisations/{org}/visits" in portal_login(server.url, "carol").get(f"/organisations/{org}").text


def test_ending_a_visit_any_way_leaves_no_suggestion_row(server, users, anon, monkeypatch):
    alice = users["alice"]
    org, ids = _museum(alice)
    by_api, by_phone, expiring = (_start(alice, org)["code"] for _ in range(3))
    for code in (by_api, by_phone, expiring):
        _shown(anon, code)
        _go(alice, code, ids["War"])
        _shown(anon, code)
    assert _rows() == 9 + 9  # three showings of 3, then three of 3 (War visited: the other 3)
    assert anon.delete(f"/visits/{by_api}").status_code == 204
    assert _rows() == 12
    with httpx.Client(base_url=server.url, timeout=60) as phone:
        m = TOKEN_RE.search(phone.get(f"/visit/{by_phone}").text)
        assert phone.post(f"/visit/{by_phone}/end", data={"csrf_token": m.group(1) or m.group(2)}).status_code == 200
    assert _rows() == 6
    import portal.api.visits as visits_api
    later = visits_api.clock() + _dt.timedelta(days=2)
    monkeypatch.setattr(visits_api, "clock", lambda: later)
    _start(alice, org)  # starting a visit deletes the expired ones
    assert _rows() == 0
    with db.connection():  # the counts are linked to no visit: they stay
        assert outcomes.outcome_totals(org)["moves"] == 3


def test_the_report_numbers():
    from portal.museum.followed import summarise

    empty = summarise({"visits": 0, "moves": 0, "hits": 0, "chance": 0.0})
    assert empty["share"] is None and empty["baseline"] is None and empty["few"]
    many = summarise({"visits": 40, "moves": 100, "hits": 30, "chance": 15.0})
    assert many["share"] == 0.3 and many["baseline"] == 0.15 and not many["few"]
    assert round(many["low"], 3) == 0.219 and round(many["high"], 3) == 0.396
