"""The kiosk's side of an opted-in visit (issue 21) over HTTP, run.py's whole server with the
real-time app: "Personalise my visit" starts a code for the kiosk exhibit's organisation, "I have
a code" makes the kiosk's next frames count for the visit, "What next" lists suggestions, "End
visit" deletes it all; a kiosk token starts visits for its own exhibit's organisation only."""
from __future__ import annotations

import re

import httpx
import pytest

import db
from db import museum, observations
from db import visits as visit_table
from db.observations import Observation, RecordingSession
from tests.helpers import TOKEN_RE
from tests.helpers.api import bearer, make_user, new_token, portal_login
from tests.helpers.app import ServerThread

CSRF_RE = re.compile(r'data-csrf="([^"]+)"')


@pytest.fixture
def site(config, app_settings, museum_settings):
    """alice's Louvre (two exhibits, and a second organisation), bob's Prado."""
    import run

    app = run.build_app(config, realtime_settings=app_settings, museum_settings=museum_settings)
    with ServerThread(app) as srv:
        alice, _ = make_user(config, "alice"), make_user(config, "bob")
        with db.connection():
            org = museum.create_organisation(alice, "Louvre")
            mona = museum.create_exhibit(alice, org.id, "Mona Lisa", "Salle 711")
            venus = museum.create_exhibit(alice, org.id, "Venus de Milo", "Salle 345")
            other = museum.create_organisation(alice, "Orsay")
        yield {"url": srv.url, "org": org.id, "mona": mona.id, "venus": venus.id, "other": other.id}
    db.database.obj.close()


def _kiosk(client, exhibit_id):
    page = client.get(f"/kiosk/{exhibit_id}")
    assert page.status_code == 200, page.text
    return CSRF_RE.search(page.text).group(1), page.text


def _post(client, path, csrf, **form):
    return client.post(path, data=form, headers={"X-CSRFToken": csrf})


def test_personalise_join_what_next_and_end(site, portrait_jpeg):
    alice = portal_login(site["url"], "alice")
    csrf, text = _kiosk(alice, site["mona"])
    for words in ("Personalise my visit", "I have a code", "never the face", "kiosk-visit.js"):
        assert words in text, words
    assert _post(alice, f"/kiosk/{site['mona']}/visit", "wrong").status_code == 400
    made = _post(alice, f"/kiosk/{site['mona']}/visit", csrf)
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert made.json()["url"].endswith(f"/visit/{code}")
    assert made.json()["ends"] == "midnight"  # VISIT_ENDS 00:00: not "valid until 00:00 today"
    # at a second kiosk (Venus): the code links that kiosk's recording to the visit
    csrf2, _ = _kiosk(alice, site["venus"])
    joined = _post(alice, f"/kiosk/{site['venus']}/visit/join", csrf2, code=code.lower(), session_id="")
    assert joined.status_code == 200, joined.text
    sid = joined.json()["session_id"]
    frame = alice.post(f"/kiosk/{site['venus']}/frames", data={"session_id": str(sid)},
                       files={"image": ("f.jpg", portrait_jpeg, "image/jpeg")}, headers={"X-CSRFToken": csrf2})
    assert frame.status_code == 200 and frame.json()["session_id"] == sid and frame.json()["faces"] == 1
    nxt = _post(alice, f"/kiosk/{site['venus']}/visit/next", csrf2, code=code)
    assert nxt.status_code == 200, nxt.text
    assert [x["exhibit_id"] for x in nxt.json()["visited"]] == [site["venus"]]
    assert [s["exhibit_id"] for s in nxt.json()["suggestions"]] == [site["mona"]]
    assert _post(alice, f"/kiosk/{site['venus']}/visit/next", csrf2, code="AAAA-AAAA-AAAA").status_code == 404
    ended = _post(alice, f"/kiosk/{site['venus']}/visit/end", csrf2, code=code)
    assert ended.status_code == 200 and ended.json() == {"ended": True}
    assert _post(alice, f"/kiosk/{site['venus']}/visit/next", csrf2, code=code).status_code == 404
    with db.connection():
        assert visit_table.Visit.select().count() == 0
        assert RecordingSession.get_or_none(RecordingSession.id == sid) is None
        assert Observation.select().where(Observation.session == sid).count() == 0
    # the kiosk carries on with a session of its own
    frame = alice.post(f"/kiosk/{site['venus']}/frames", data={"session_id": str(sid)},
                       files={"image": ("f.jpg", portrait_jpeg, "image/jpeg")}, headers={"X-CSRFToken": csrf2})
    assert frame.status_code == 200 and frame.json()["frames"] == 1  # a new session (SQLite may reuse the id)
    with db.connection():
        assert visit_table.VisitSession.select().count() == 0


def test_a_code_is_useless_at_another_organisations_kiosk(site):
    alice, bob = portal_login(site["url"], "alice"), portal_login(site["url"], "bob")
    with db.connection():
        bobs = museum.create_exhibit(db.get_user_by_username("bob").id,
                                         museum.create_organisation(db.get_user_by_username("bob").id, "Prado").id,
                                         "Las Meninas")
    csrf, _ = _kiosk(alice, site["mona"])
    code = _post(alice, f"/kiosk/{site['mona']}/visit", csrf).json()["code"]
    bcsrf, _ = _kiosk(bob, bobs.id)
    r = _post(bob, f"/kiosk/{bobs.id}/visit/join", bcsrf, code=code, session_id="")
    assert r.status_code == 404 and "no visit with this code" in r.json()["detail"]
    assert _post(alice, f"/kiosk/{bobs.id}/visit", csrf).status_code == 404  # not alice's exhibit
    anon = httpx.Client(base_url=site["url"], timeout=30)
    assert anon.post(f"/kiosk/{site['mona']}/visit").status_code == 401
    with db.connection():
        assert observations.exhibit_sessions(bobs.id) == []


def test_a_kiosk_token_starts_visits_for_its_own_organisation_only(site):
    web = portal_login(site["url"], "alice")
    token = new_token(web, "Hall", "kiosk", site["mona"])
    api = bearer(type("S", (), {"url": site["url"]}), token)
    r = api.post("/visits", json={"organisation_id": site["org"]})
    assert r.status_code == 201, r.text
    r = api.post("/visits", json={"organisation_id": site["other"]})  # alice owns it, the token not
    assert r.status_code == 403 and "organisation of exhibit" in r.json()["detail"]
    # the same token connected on a tablet: the kiosk page's Personalise button
    tablet = httpx.Client(base_url=site["url"], timeout=30)
    m = TOKEN_RE.search(tablet.get(f"/kiosk/{site['mona']}/connect").text)
    r = tablet.post(f"/kiosk/{site['mona']}/connect",
                    data={"token": token, "csrf_token": m.group(1) or m.group(2)})
    assert r.status_code == 302
    csrf, _ = _kiosk(tablet, site["mona"])
    made = _post(tablet, f"/kiosk/{site['mona']}/visit", csrf)
    assert made.status_code == 201, made.text
    assert _post(tablet, f"/kiosk/{site['venus']}/visit", csrf).status_code == 401  # not its exhibit
    with db.connection():
        assert {v.organisation_id for v in visit_table.Visit.select()} == {site["org"]}
