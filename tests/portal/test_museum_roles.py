"""Roles on the portal's pages (issue 18, finding 9), through the Flask client: a viewer reads
but may not rename, archive or add exhibits (403 with the reason); the owner invites with a
role, changes roles, removes members and hands the organisation over; a kiosk token is made for
one exhibit after a password re-check."""
import re

import pytest

import db
from db import museum as museum_api, tokens
from tests.helpers.web import post, register

pytestmark = pytest.mark.security


@pytest.fixture
def museum(app, client, alice):
    with db.connection():
        org = museum_api.create_organisation(alice.id, "Louvre")
        exhibit = museum_api.create_exhibit(alice.id, org.id, "Mona Lisa")
    return {"org": org.id, "exhibit": exhibit.id, "page": f"/organisations/{org.id}"}


def _join(app, client, museum, name: str, role: str):
    """``name`` registers and accepts the invitation alice makes for ``role`` on her page."""
    r = post(client, f"{museum['page']}/invite", {"role": role}, page=museum["page"])
    code = r.headers["Location"].split("invited=")[1]
    other = app.test_client()
    assert register(other, name).status_code == 302
    assert post(other, f"/invitations/{code}").status_code == 302
    return other


def _role(org_id: int, name: str) -> str:
    with db.connection():
        return dict((u.username, r) for u, r in museum_api.members(org_id))[name]


def test_a_viewer_reads_but_cannot_edit_and_the_owner_manages_members(app, client, museum):
    bob = _join(app, client, museum, "bob", "viewer")
    page, edit = museum["page"], f"/exhibits/{museum['exhibit']}/edit"
    assert "You are a viewer" in bob.get(page).get_data(as_text=True)
    assert bob.get(f"/exhibits/{museum['exhibit']}").status_code == 200
    assert "Edit or archive" not in bob.get(f"/exhibits/{museum['exhibit']}").get_data(as_text=True)
    assert "Mona Lisa" not in bob.get("/videos").get_data(as_text=True)  # no exhibit to record at
    assert "Mona Lisa" in client.get("/videos").get_data(as_text=True)
    for url, data in ((edit, {"name": "Mine"}), (f"/exhibits/{museum['exhibit']}/archive", {}),
                      (page, {"name": "New exhibit"})):
        r = post(bob, url, data, page=page)
        assert r.status_code == 403 and "Viewers cannot create, rename or archive" in r.get_data(as_text=True)
    r = bob.get(f"/kiosk/{museum['exhibit']}", headers={"Accept": "text/html"})
    assert r.status_code == 403 and "Viewers cannot record" in r.get_data(as_text=True)
    r = post(bob, f"/kiosk/{museum['exhibit']}/frames", page=page)
    assert r.status_code == 403 and r.json["detail"].startswith("Viewers cannot record")
    r = post(bob, f"{page}/members/alice/remove", page=page)
    assert r.status_code == 403 and "owner cannot be removed" in r.get_data(as_text=True)
    # the owner makes bob a manager: now he edits
    assert post(client, f"{page}/members/bob/role", {"role": "manager"}).status_code == 302
    assert _role(museum["org"], "bob") == "manager"
    assert post(bob, edit, {"name": "Gioconda"}).status_code == 302
    # ... hands the organisation to bob, who then removes her
    assert post(client, f"{page}/transfer", {"username": "bob"}).status_code == 302
    assert (_role(museum["org"], "alice"), _role(museum["org"], "bob")) == ("manager", "owner")
    assert post(client, f"{page}/members/bob/remove", page=page).status_code == 403
    assert post(bob, f"{page}/members/alice/remove").status_code == 302
    assert client.get(page).status_code == 404


def test_a_member_leaves_and_strangers_get_404(app, client, museum):
    carol = _join(app, client, museum, "carol", "manager")
    stranger = app.test_client()
    assert register(stranger, "dave").status_code == 302
    page = museum["page"]
    assert post(stranger, "/organisations", {"name": "Own"}).status_code == 302  # a CSRF token
    for url in (f"{page}/members/carol/remove", f"{page}/members/carol/role", f"{page}/transfer"):
        assert post(stranger, url, {"role": "viewer", "username": "dave"},
                    page="/organisations").status_code == 404, url
    r = post(carol, f"{page}/members/carol/remove")
    assert r.status_code == 302 and r.headers["Location"].endswith("/organisations")
    assert carol.get(page).status_code == 404


def test_a_kiosk_token_names_its_exhibit(client, museum, alice):
    r = post(client, "/account/tokens", {"name": "Hall", "scope": "kiosk",
                                         "exhibit_id": museum["exhibit"], "password": "Correct-Horse-42"})
    assert r.status_code == 200
    token = re.search(r'id="new-token">([^<]+)<', r.get_data(as_text=True)).group(1)
    with db.connection():
        row = tokens.lookup(token)
        assert (row.scope, row.exhibit_id) == ("kiosk", museum["exhibit"])
    assert "kiosk (Mona Lisa)" in client.get("/account/tokens").get_data(as_text=True)


def test_wrong_passwords_on_the_token_page_share_the_recheck_limit(client, alice):
    for _ in range(3):
        r = post(client, "/account/tokens", {"name": "Cam", "scope": "read", "password": "wrong-pass-1"})
        assert r.status_code == 400
    for _ in range(2):  # the same counter as the password and delete pages
        assert post(client, "/account/password", {"current_password": "wrong-pass-1", "new_password": "x" * 12,
                                                   "confirm": "x" * 12}).status_code == 400
    r = post(client, "/account/tokens", {"name": "Cam", "scope": "read", "password": "Correct-Horse-42"})
    assert r.status_code == 429 and "Too many failed attempts" in r.get_data(as_text=True)
    with db.connection():
        assert tokens.personal_tokens(alice.id) == []


def test_a_kiosk_connects_with_its_token_and_reaches_nothing_else(app, client, museum, alice):
    page = f"/kiosk/{museum['exhibit']}"
    with db.connection():
        other = museum_api.create_exhibit(alice.id, museum["org"], "Venus").id
        kiosk, row = tokens.create_token(alice.id, name="Hall", scope="kiosk", exhibit_id=museum["exhibit"])
        elsewhere, _ = tokens.create_token(alice.id, name="Venus", scope="kiosk", exhibit_id=other)
        reader, _ = tokens.create_token(alice.id, name="Script", scope="read")
    tablet = app.test_client()
    assert tablet.get(page, headers={"Accept": "text/html"}).status_code == 302  # to the login
    for wrong in ("ec_nonsense", elsewhere, reader):
        r = post(tablet, f"{page}/connect", {"token": wrong})
        assert r.status_code == 400 and "not a valid kiosk token" in r.get_data(as_text=True)
    r = post(tablet, f"{page}/connect", {"token": kiosk})
    assert r.status_code == 302 and r.headers["Location"].endswith(page)
    html = tablet.get(page).get_data(as_text=True)
    assert "Mona Lisa" in html
    csrf = re.search(r'data-csrf="([^"]+)"', html).group(1)
    r = tablet.post(f"{page}/frames", headers={"X-CSRFToken": csrf})
    assert r.status_code != 401  # signed in: past the door (no camera frame sent: 400/503)
    for url in ("/menu", f"/exhibits/{museum['exhibit']}", "/account/tokens"):
        assert tablet.get(url).status_code == 302, url  # anonymous everywhere else
    assert tablet.get(f"/kiosk/{other}", headers={"Accept": "application/json"}).status_code == 401
    with db.connection():
        tokens.revoke_token(alice.id, row.id)
    r = tablet.post(f"{page}/frames", headers={"X-CSRFToken": csrf})
    assert r.status_code == 401 and "kiosk token" in r.json["detail"]
