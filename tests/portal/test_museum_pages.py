"""Museum pages through the Flask test client: organisations, invitations, exhibits, the
dashboard (charts, exports, privacy threshold), the visitor notice and API tokens; other
users get 404 everywhere."""
import csv
import io
import json

import pytest

import db
from db import museum, observations, tokens
from portal.museum import exports as exhibit_data
from tests.helpers.web import post, register

PROBS = {"angry": 0.05, "disgust": 0.05, "fear": 0.05, "happy": 0.6, "sad": 0.05,
         "surprise": 0.1, "neutral": 0.1}


@pytest.fixture
def bob(app):
    client = app.test_client()
    assert register(client, "bob").status_code == 302
    return client


def _make(client):
    r = post(client, "/organisations", {"name": "Louvre"})
    assert r.status_code == 302
    org_url = r.headers["Location"]
    r = post(client, org_url, {"name": "Mona Lisa", "location": "Room 711", "description": "Oil"})
    assert r.status_code == 302
    exhibit_id = int(r.headers["Location"].rsplit("/", 1)[1])
    return int(org_url.rsplit("/", 1)[1]), exhibit_id


def _record(owner_id, exhibit_id, visitors):
    with db.connection():
        sess = observations.start_session(owner_id, exhibit_id)
        for t in (0.0, 3.0):
            faces = [{"track_id": i, "box": [0, 0, 40, 40], "emotion": "happy", "probabilities": PROBS}
                     for i in range(1, visitors + 1)]
            observations.add_session_observations(sess, t, faces)


def test_create_organisation_and_exhibit_and_see_the_overview(client, alice):
    org_id, exhibit_id = _make(client)
    page = client.get(f"/organisations/{org_id}").get_data(as_text=True)
    assert "Louvre" in page and "Mona Lisa" in page and "Room 711" in page
    assert 'href="/organisations"' in client.get("/menu").get_data(as_text=True)
    assert post(client, f"/organisations/{org_id}", {"name": ""}).status_code == 400
    page = client.get(f"/exhibits/{exhibit_id}").get_data(as_text=True)
    assert "too few visitors to show" in page and 'id="visitors">0<' in page


def test_other_users_get_404_then_join_by_invitation(client, alice, bob):
    org_id, exhibit_id = _make(client)
    urls = [f"/organisations/{org_id}", f"/exhibits/{exhibit_id}", f"/exhibits/{exhibit_id}/edit",
            f"/exhibits/{exhibit_id}/chart/emotions.svg", f"/exhibits/{exhibit_id}/export.json",
            f"/exhibits/{exhibit_id}/export.csv", f"/exhibits/{exhibit_id}/observations.csv",
            f"/exhibits/{exhibit_id}/notice.pdf"]
    for url in urls:
        assert bob.get(url).status_code == 404, url
    csrf = post(bob, "/organisations", {"name": "Mine"})  # bob's own, to have a CSRF token page
    assert csrf.status_code == 302
    for url in (f"/organisations/{org_id}/invite", f"/exhibits/{exhibit_id}/archive"):
        assert post(bob, url, page="/organisations").status_code == 404, url
    r = post(client, f"/organisations/{org_id}/invite", page=f"/organisations/{org_id}")
    assert r.status_code == 302 and "invited=" in r.headers["Location"]
    code = r.headers["Location"].split("invited=")[1]
    assert f"/invitations/{code}" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Join Louvre" in bob.get(f"/invitations/{code}").get_data(as_text=True)
    assert post(bob, f"/invitations/{code}").status_code == 302
    for url in urls:  # a viewer (the default role) reads everything but the edit page
        assert bob.get(url).status_code == (403 if url.endswith("/edit") else 200), url
    assert bob.get(f"/invitations/{code}").status_code == 404  # used
    # a member who is not the owner cannot invite
    assert post(bob, f"/organisations/{org_id}/invite", page=f"/organisations/{org_id}").status_code == 403


def test_dashboard_shows_numbers_charts_and_exports_above_the_threshold(app, client, alice):
    _, exhibit_id = _make(client)
    _record(alice.id, exhibit_id, visitors=6)
    page = client.get(f"/exhibits/{exhibit_id}").get_data(as_text=True)
    assert 'id="visitors">6<' in page and 'id="faces">12<' in page and 'id="dwell">' in page
    assert "too few visitors" not in page and 'id="observations-hidden"' not in page
    assert 'id="no-visitors"' not in page
    for name in ("emotions", "probabilities", "timeline", "dwell", "heatmap"):
        assert f"/exhibits/{exhibit_id}/chart/{name}.svg" in page
        svg = client.get(f"/exhibits/{exhibit_id}/chart/{name}.svg")
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        assert svg.data.lstrip().startswith(b"<?xml") and b"too few visitors" not in svg.data
    assert client.get(f"/exhibits/{exhibit_id}/chart/pie.svg").status_code == 404
    exported = json.loads(client.get(f"/exhibits/{exhibit_id}/export.json").data)
    with db.connection():
        exhibit = museum.get_exhibit(alice.id, exhibit_id)
        shown = exhibit_data.exhibit_summary(exhibit, app.config["MUSEUM"])
        assert exported == json.loads(json.dumps(shown))
    # everyone was happy and stayed 3 s: the noised numbers (1/6 per value) still say so
    assert max(exported["emotions"], key=exported["emotions"].get) == "happy"
    assert exported["noise_scale"] == pytest.approx(1 / 6, abs=1e-6)
    assert 2.0 <= exported["dwell_s_median"] <= 5.0  # read off the noised histogram: its bin
    rows = list(csv.DictReader(io.StringIO(client.get(f"/exhibits/{exhibit_id}/observations.csv")
                                           .get_data(as_text=True))))
    assert len(rows) == 12 and rows[0]["p_happy"] == "0.60000" and rows[0]["emotion"] == "happy"
    aggregates = client.get(f"/exhibits/{exhibit_id}/export.csv").get_data(as_text=True)
    assert f"emotions,happy,{exported['emotions']['happy']:.5f}" in aggregates


def test_small_groups_are_hidden_in_the_dashboard_charts_and_exports(client, alice):
    _, exhibit_id = _make(client)
    _record(alice.id, exhibit_id, visitors=4)
    page = client.get(f"/exhibits/{exhibit_id}").get_data(as_text=True)
    assert 'id="visitors">4<' in page and "too few visitors to show" in page and 'id="emotions"' not in page
    assert b"too few visitors to show" in client.get(f"/exhibits/{exhibit_id}/chart/emotions.svg").data
    assert json.loads(client.get(f"/exhibits/{exhibit_id}/export.json").data)["emotions"] is None
    r = client.get(f"/exhibits/{exhibit_id}/observations.csv")
    assert len(r.get_data(as_text=True).strip().splitlines()) == 1
    assert r.headers["X-Analytics-Hidden"] == "too few visitors to show"
    assert 'id="observations-hidden"' in page and "fewer than 5 visitors" in page  # said next to the link
    assert "happy" not in client.get(f"/exhibits/{exhibit_id}/export.csv").get_data(as_text=True)


def test_an_empty_dashboard_says_no_visitors_yet(client, alice):
    """No visitors: words instead of empty charts (the heatmap's colour bar ran from -0.1 to 0.1)."""
    _, exhibit_id = _make(client)
    page = client.get(f"/exhibits/{exhibit_id}").get_data(as_text=True)
    assert 'id="no-visitors"' in page and "No visitors yet" in page and "/chart/heatmap.svg" not in page
    svg = client.get(f"/exhibits/{exhibit_id}/chart/heatmap.svg").data
    assert b"No visitors yet" in svg and b"-0.1" not in svg


def test_bad_dates_edit_archive_and_notice(client, alice):
    org_id, exhibit_id = _make(client)
    page = client.get(f"/exhibits/{exhibit_id}?from=someday").get_data(as_text=True)
    assert "&#39;from&#39; must be a date" in page
    assert client.get(f"/exhibits/{exhibit_id}/chart/emotions.svg?from=x").status_code == 400
    assert client.get(f"/exhibits/{exhibit_id}/export.json?bucket=week").status_code == 400
    r = post(client, f"/exhibits/{exhibit_id}/edit", {"name": "Gioconda", "location": "Room 1"})
    assert r.status_code == 302
    assert post(client, f"/exhibits/{exhibit_id}/edit", {"name": ""}).status_code == 400
    assert post(client, f"/exhibits/{exhibit_id}/archive", page=f"/exhibits/{exhibit_id}/edit").status_code == 302
    with db.connection():
        exhibit = museum.get_exhibit(alice.id, exhibit_id)
        assert (exhibit.name, exhibit.location, exhibit.archived) == ("Gioconda", "Room 1", True)
    pdf = client.get(f"/exhibits/{exhibit_id}/notice.pdf")
    assert pdf.mimetype == "application/pdf"
    from pypdf import PdfReader
    pages = PdfReader(io.BytesIO(pdf.data)).pages
    text = " ".join(pages[0].extract_text().split())
    assert len(pages) == 1  # one printable sheet
    assert "Emotion recognition in use" in text and "Gioconda" in text
    assert "alice@example.org" in text
    # what this installation keeps (issue 20): staff-attached videos are stored and playable,
    # kept until deleted (no RETENTION_DAYS); the live camera keeps no frame; visit codes offered
    assert "Recorded videos" in text and "can be played back" in text
    assert "Recorded videos are kept until a staff member deletes them" in text
    assert "keeps no video and no camera frame" in text and "No video. No camera frame." not in text
    assert "Personalised visit" in text and "until the end of the day" in text


def test_the_notice_says_what_the_settings_keep(config):
    """The notice is generated from the settings: RETENTION_DAYS deletes videos too, VISIT_ENDS is
    the visit codes' end, and a site without videos or visits does not mention them."""
    from portal.web.factory import create_app
    from portal.museum.settings import MuseumSettings
    from portal.museum.notice import NoticeFacts, notice_text
    from portal.web.museum_pages import notice_facts

    app = create_app(config, MuseumSettings(retention_days=30))
    with app.app_context():
        facts = notice_facts(app)
        text = " ".join(p for _, p in notice_text("Mona Lisa", "Salle 711", "Louvre", "a@b.c", facts=facts))
    assert facts.retention_days == 30 and facts.videos and facts.visits
    assert "Recorded videos are deleted after 30 days" in text and "deleted after 30 days." in text
    bare = dict(notice_text("Mona Lisa", "", "Louvre", "a@b.c",
                            facts=NoticeFacts(retention_days=None, videos=False, visits=False)))
    assert "Recorded videos" not in bare and not any("Personalised" in h for h in bare)
    assert "no camera frame" in bare["What is not stored"] and "Numbers only" in bare["What is stored"]
    evening = dict(notice_text("X", "", "O", "c", facts=NoticeFacts(visits=True, visit_ends="18:30")))
    assert "until 18:30 local time" in evening["Personalised visit (only if you ask for one)"]


def test_personal_access_tokens_are_shown_once_listed_and_revocable(client, alice, bob):
    r = post(client, "/account/tokens", {"name": "Camera room 3", "scope": "full"})
    assert r.status_code == 400 and "Enter your current password" in r.get_data(as_text=True)
    r = post(client, "/account/tokens", {"name": "Camera room 3", "scope": "full",
                                         "password": "not-my-password"})
    assert r.status_code == 400 and "This is not your password" in r.get_data(as_text=True)
    r = post(client, "/account/tokens", {"name": "Camera room 3", "scope": "full",
                                         "password": "Correct-Horse-42"})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    token = page.split('id="new-token">')[1].split("<")[0]
    with db.connection():
        assert tokens.user_for_token(token).id == alice.id
        row = tokens.personal_tokens(alice.id)[0]
    again = client.get("/account/tokens").get_data(as_text=True)
    assert token not in again and "Camera room 3" in again and row.prefix in again
    assert post(client, "/account/tokens", {"name": ""}).status_code == 400
    assert post(bob, f"/account/tokens/{row.id}/revoke", page="/account/tokens").status_code == 404
    assert post(client, f"/account/tokens/{row.id}/revoke", page="/account/tokens").status_code == 302
    with db.connection():
        assert tokens.user_for_token(token) is None
    assert "Camera room 3" not in client.get("/account/tokens").get_data(as_text=True)
    assert 'href="/account/tokens"' in client.get("/account").get_data(as_text=True)


def test_retention_deletes_old_image_files_and_keeps_the_numbers(client, config, alice):
    import datetime as dt
    from pathlib import Path

    from portal.accounts.retention import apply_retention
    from tests.helpers.web import add_computation

    _, exhibit_id = _make(client)
    old, new = add_computation(config, alice.id, faces=2), add_computation(config, alice.id, faces=1)
    with db.connection():
        for comp in (old, new):
            observations.attach_computation(alice.id, comp, exhibit_id)
        db.Computation.update(created_at=db.base.utcnow() - dt.timedelta(days=31)).where(
            db.Computation.id == old.id).execute()
    old_files = [Path(config.data_dir) / p for p in (old.original_path, old.annotated_path)]
    assert apply_retention(config.data_dir, days=30) == 2
    assert not any(f.exists() for f in old_files)
    assert (Path(config.data_dir) / new.original_path).is_file()
    assert client.get(f"/history/{old.id}/image/original").status_code == 404
    assert client.get(f"/history/{old.id}").status_code == 200  # the result stays
    page = client.get(f"/exhibits/{exhibit_id}").get_data(as_text=True)
    assert 'id="faces">3<' in page


def test_a_photo_from_the_history_is_attached_to_an_exhibit_once(client, config, alice, bob):
    from tests.helpers.web import add_computation

    _, exhibit_id = _make(client)
    comp = add_computation(config, alice.id, faces=3)
    page = client.get(f"/history/{comp.id}").get_data(as_text=True)
    assert f'action="/history/{comp.id}/attach"' in page and "Mona Lisa" in page
    assert post(bob, f"/history/{comp.id}/attach", {"exhibit_id": exhibit_id},
                page="/account/tokens").status_code == 404  # not bob's photo
    assert post(client, f"/history/{comp.id}/attach", {"exhibit_id": "999"},
                page=f"/history/{comp.id}").status_code == 404
    assert post(client, f"/history/{comp.id}/attach", {"exhibit_id": exhibit_id},
                page=f"/history/{comp.id}").status_code == 302
    page = client.get(f"/history/{comp.id}").get_data(as_text=True)
    assert 'id="attached"' in page and "/attach" not in page
    assert 'id="faces">3<' in client.get(f"/exhibits/{exhibit_id}").get_data(as_text=True)
    assert post(client, f"/history/{comp.id}/attach", {"exhibit_id": exhibit_id},
                page="/account/tokens").status_code == 404  # already attached


def test_a_password_change_revokes_every_api_token(client, alice):
    login_token, _ = tokens.create_token(alice.id, kind="login", expires_in=3600)
    device_token, _ = tokens.create_token(alice.id, name="Camera")
    r = post(client, "/account/password", {"current_password": "Correct-Horse-42",
                                           "new_password": "Another-Horse-77",
                                           "confirm": "Another-Horse-77"})
    assert r.status_code == 302
    with db.connection():
        assert tokens.user_for_token(login_token) is None
        assert tokens.user_for_token(device_token) is None  # a lost device stops working too
