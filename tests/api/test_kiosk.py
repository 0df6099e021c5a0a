"""Kiosk mode and the dashboard's sessions table over real HTTP (run.py's app with the real-time
app mounted, both databases): who may open and feed a kiosk, what a frame stores, stop/delete."""
from __future__ import annotations

import datetime as _dt
import re

import httpx
import numpy as np
import pytest

import db
from db import museum, observations
from tests.helpers import TOKEN_RE
from tests.helpers.api import make_user, portal_login
from tests.helpers.app import ServerThread, jpeg_bytes, png_bytes

CSRF_RE = re.compile(r'data-csrf="([^"]+)"')


@pytest.fixture
def site(config, app_settings, museum_settings):
    """The whole server; alice owns an exhibit, bob has an organisation of his own."""
    import run

    app = run.build_app(config, realtime_settings=app_settings, museum_settings=museum_settings)
    with ServerThread(app) as srv:
        alice, bob = make_user(config, "alice"), make_user(config, "bob")
        with db.connection():
            org = museum.create_organisation(alice, "Louvre")
            exhibit = museum.create_exhibit(alice, org.id, "Mona Lisa", "Salle 711")
            bobs = museum.create_exhibit(bob, museum.create_organisation(bob, "Prado").id,
                                             "Las Meninas")
        yield {"url": srv.url, "exhibit": exhibit.id, "bobs": bobs.id, "alice": alice,
               "flask": app.state.flask_app}
    db.database.obj.close()


def post_frame(client, exhibit_id, csrf, image: bytes, session_id="", name="frame.jpg"):
    return client.post(f"/kiosk/{exhibit_id}/frames", data={"session_id": str(session_id)},
                       files={"image": (name, image, "image/jpeg")}, headers={"X-CSRFToken": csrf})


def test_anonymous_visitors_are_refused(site):
    with httpx.Client(base_url=site["url"], timeout=30, follow_redirects=False) as anon:
        page = anon.get(f"/kiosk/{site['exhibit']}", headers={"accept": "text/html"})
        assert page.status_code == 302
        assert page.headers["location"].startswith("/login?next=")
        assert f"kiosk/{site['exhibit']}" in page.headers["location"].replace("%2F", "/")
        r = anon.get(f"/kiosk/{site['exhibit']}", headers={"accept": "application/json"})
        assert r.status_code == 401 and "log in" in r.json()["detail"]
        r = anon.post(f"/kiosk/{site['exhibit']}/frames", files={"image": ("f.jpg", b"x")})
        assert r.status_code == 401


def test_another_organisations_exhibit_is_not_found(site, portrait_jpeg):
    alice = portal_login(site["url"], "alice")
    for exhibit in (site["bobs"], 999999):
        assert alice.get(f"/kiosk/{exhibit}").status_code == 404
    csrf = CSRF_RE.search(alice.get(f"/kiosk/{site['exhibit']}").text).group(1)
    r = post_frame(alice, site["bobs"], csrf, portrait_jpeg)
    assert r.status_code == 404
    with db.connection():
        assert observations.exhibit_sessions(site["bobs"]) == []
    # archived: the kiosk closes
    with db.connection():
        museum.update_exhibit(site["alice"], site["exhibit"], archived=True)
    assert alice.get(f"/kiosk/{site['exhibit']}").status_code == 404


def test_kiosk_shows_the_notice_and_records_numbers_only(site, portrait_jpeg, tmp_path, config):
    alice = portal_login(site["url"], "alice")
    page = alice.get(f"/kiosk/{site['exhibit']}")
    assert page.status_code == 200
    text = page.text
    for words in ("Notice to visitors", "Emotion recognition in use", "What is not stored",
                  "Mona Lisa", "Salle 711", "Louvre, alice@example.org", 'src="/static/kiosk.js"'):
        assert words in text, words
    assert "<script>" not in text  # the portal's CSP allows no inline script
    csrf = CSRF_RE.search(text).group(1)
    assert post_frame(alice, site["exhibit"], "wrong", portrait_jpeg).status_code == 400
    r = post_frame(alice, site["exhibit"], csrf, portrait_jpeg)
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["faces"] == 1 and first["frames"] == 1 and len(first["emotions"]) == 1
    sid = first["session_id"]
    for _ in range(2):
        r = post_frame(alice, site["exhibit"], csrf, portrait_jpeg, sid)
        assert r.json()["session_id"] == sid
    assert r.json()["frames"] == 3 and r.json()["observations"] == 3
    bad = post_frame(alice, site["exhibit"], csrf, b"not an image", sid)
    assert bad.status_code == 415 and "cannot be read" in bad.json()["detail"]
    none = alice.post(f"/kiosk/{site['exhibit']}/frames", data={"session_id": sid},
                      headers={"X-CSRFToken": csrf})
    assert none.status_code == 400 and "'image'" in none.json()["detail"]
    # the page is closed: its beacon stops the session (CSRF token in the form)
    r = alice.post(f"/kiosk/{site['exhibit']}/stop", data={"session_id": sid, "csrf_token": csrf})
    assert r.status_code == 200 and r.json()["faces"] == 3 and r.json()["visitors"] == 1
    with db.connection():
        rows = observations.observation_rows(site["exhibit"], session_id=sid)
        sess = observations.get_session(site["alice"], sid)
    assert len(rows) == 3 and {r["track_id"] for r in rows} == {1} and sess.stopped_at is not None
    assert [r["t"] for r in rows] == sorted(r["t"] for r in rows)
    assert not any(p.suffix in (".jpg", ".png") for p in config.data_dir.rglob("*"))  # no frame kept
    # a stale session id (stopped) starts a new session: the kiosk carries on by itself
    r = post_frame(alice, site["exhibit"], csrf, png_bytes(np.zeros((64, 64, 3), np.uint8)),
                   sid, name="f.png")
    assert r.status_code == 200 and r.json()["session_id"] != sid and r.json()["faces"] == 0


def test_dashboard_lists_sessions_with_stop_and_delete_for_their_owner(site, portrait_jpeg, config):
    alice = portal_login(site["url"], "alice")
    csrf = CSRF_RE.search(alice.get(f"/kiosk/{site['exhibit']}").text).group(1)
    sid = post_frame(alice, site["exhibit"], csrf, portrait_jpeg).json()["session_id"]
    page = alice.get(f"/exhibits/{site['exhibit']}").text
    row = re.search(rf'<tr id="session-{sid}">(.*?)</tr>', page, re.S).group(1)
    assert "recording" in row and "alice" in row and ">Stop<" in row and ">Delete<" in row
    token = TOKEN_RE.search(page)
    token = token.group(1) or token.group(2)
    # carol joins the organisation: he sees the row's numbers but may not stop or delete it
    make_user(config, "carol")
    with db.connection():
        org = museum.get_exhibit(site["alice"], site["exhibit"]).organisation_id
        code = museum.create_invitation(site["alice"], org, _dt.timedelta(days=1)).code
        carol_id = db.get_user_by_username("carol").id
        museum.accept_invitation(carol_id, code)
    carol = portal_login(site["url"], "carol")
    carol_page = carol.get(f"/exhibits/{site['exhibit']}").text
    carol_row = re.search(rf'<tr id="session-{sid}">(.*?)</tr>', carol_page, re.S).group(1)
    assert "alice" in carol_row and ">Stop<" not in carol_row and ">Delete<" not in carol_row
    ct = TOKEN_RE.search(carol_page)
    for action in ("stop", "delete"):
        r = carol.post(f"/exhibits/{site['exhibit']}/sessions/{sid}/{action}",
                       data={"csrf_token": ct.group(1) or ct.group(2)})
        assert r.status_code == 404
    r = alice.post(f"/exhibits/{site['exhibit']}/sessions/{sid}/stop", data={"csrf_token": token})
    assert r.status_code == 302
    with db.connection():
        assert observations.get_session(site["alice"], sid).stopped_at is not None
    page = alice.get(f"/exhibits/{site['exhibit']}").text
    row = re.search(rf'<tr id="session-{sid}">(.*?)</tr>', page, re.S).group(1)
    assert "stopped" in row and ">Stop<" not in row and "<td>1</td>" in row  # 1 visitor, 1 face
    r = alice.post(f"/exhibits/{site['exhibit']}/sessions/{sid}/delete", data={"csrf_token": token})
    assert r.status_code == 302
    with db.connection():
        assert observations.get_session(site["alice"], sid) is None
        assert observations.observation_rows(site["exhibit"], session_id=sid) == []


class _Clock:
    def __init__(self):
        self.now = 5000.0

    def __call__(self):
        return self.now


def test_kiosk_waits_for_staff_and_ends_its_session_when_frames_stop(site, portrait_jpeg):
    """Issue 20: opening the page records nothing (a Start recording button for staff); a
    session whose frames stop ends after KIOSK_IDLE_S (no beacon needed), the next frame starts
    a new one."""
    alice = portal_login(site["url"], "alice")
    text = alice.get(f"/kiosk/{site['exhibit']}").text
    assert 'id="kiosk-start-button">Start recording</button>' in text
    assert '<div id="kiosk-running" hidden>' in text and "Nothing is recorded before" in text
    with db.connection():
        assert observations.exhibit_sessions(site["exhibit"]) == []  # the page started nothing
    recorder = site["flask"].extensions["recorder"]
    recorder.clock = clock = _Clock()
    idle = site["flask"].config["MUSEUM"].kiosk_idle_s
    assert recorder.settings.kiosk_idle_s == idle
    csrf = CSRF_RE.search(text).group(1)
    sid = post_frame(alice, site["exhibit"], csrf, portrait_jpeg).json()["session_id"]
    clock.now += idle - 1
    assert recorder.sweep() == [] and recorder.get(site["alice"], sid) is not None
    clock.now += 1  # the tab was closed without its beacon: frames stopped
    assert recorder.sweep() == [sid]
    with db.connection():
        sess = observations.get_session(site["alice"], sid)
    assert sess.stopped_at is not None and '"faces": 1' in sess.summary_json
    # a page that stalls (no sweep yet) and comes back gets a new session, the old one ended
    sid2 = post_frame(alice, site["exhibit"], csrf, portrait_jpeg, sid).json()["session_id"]
    clock.now += idle + 5
    sid3 = post_frame(alice, site["exhibit"], csrf, portrait_jpeg, sid2).json()["session_id"]
    assert len({sid, sid2, sid3}) == 3
    with db.connection():
        assert observations.get_session(site["alice"], sid2).stopped_at is not None


def test_the_kiosk_records_without_the_real_time_app(config, app_settings, museum_settings, portrait_jpeg):
    """Issue 19: the recorder is the portal's (its app factory's), not the Gradio mount's: with
    ``realtime=False`` the kiosk records, and the API's cameras use the same recorder."""
    import run
    from tests.helpers.api import login

    app = run.build_app(config, realtime=False, realtime_settings=app_settings,
                        museum_settings=museum_settings)
    recorder = app.state.flask_app.extensions["recorder"]
    api = next(r.app for r in app.routes if getattr(r, "path", "") == "/api/v1")
    assert api.state.ctx.recorder is recorder
    with ServerThread(app) as srv:
        alice = make_user(config, "alice")
        with db.connection():
            exhibit = museum.create_exhibit(alice, museum.create_organisation(alice, "Louvre").id, "Mona Lisa").id
        web = portal_login(srv.url, "alice")
        page = web.get(f"/kiosk/{exhibit}").text
        assert 'data-available="yes"' in page
        r = post_frame(web, exhibit, CSRF_RE.search(page).group(1), portrait_jpeg)
        assert r.status_code == 200, r.text
        assert r.json()["faces"] == 1 and recorder.get(alice, r.json()["session_id"]).origin == "kiosk"
        camera = login(srv, "alice")
        sid = camera.post("/sessions", json={"exhibit_id": exhibit}).json()["id"]
        r = camera.post(f"/sessions/{sid}/frames", files={"image": ("f.jpg", portrait_jpeg, "image/jpeg")},
                        data={"t": "0.5"})
        assert r.status_code == 200 and recorder.get(alice, sid).origin == "api"
        assert camera.post(f"/sessions/{sid}/stop").json()["faces"] == 1
        assert recorder.get(alice, sid) is None  # the stop released its tracker
    db.database.obj.close()
