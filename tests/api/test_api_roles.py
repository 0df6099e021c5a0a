"""Issue 18, finding 9, over real HTTP: token scopes (read, full, kiosk bound to one exhibit),
the password re-check to create a token, revocation at log-out and password change, roles
owner / manager / viewer, removing members and transferring the ownership."""
from __future__ import annotations

import httpx
import pytest

from tests.helpers.api import bearer, create_token, csrf, login, make_user, new_token, portal_login

pytestmark = pytest.mark.security


def _frame(client, sid, jpeg, t=0.0):
    return client.post(f"/sessions/{sid}/frames", files={"image": ("f.jpg", jpeg, "image/jpeg")},
                       data={"t": str(t)})


def _museum(alice):
    org = alice.post("/organisations", json={"name": "Louvre"}).json()
    ids = [alice.post("/exhibits", json={"organisation_id": org["id"], "name": n}).json()["id"]
           for n in ("Mona Lisa", "Venus")]
    return org, ids


def _invite(owner, member, org_id, role):
    code = owner.post(f"/organisations/{org_id}/invitations", json={"role": role}).json()["code"]
    r = member.post(f"/invitations/{code}/accept")
    assert r.status_code == 200 and r.json()["role"] == role


def test_creating_a_token_needs_the_password_and_a_fitting_scope(server, users):
    org, (mona, _) = _museum(users["alice"])
    web = portal_login(server.url, "alice")
    r = create_token(web, "Camera", password="not-the-password")
    assert r.status_code == 400 and "This is not your password" in r.text
    assert "ec_" not in r.text
    r = create_token(web, "Kiosk", scope="kiosk")  # no exhibit chosen
    assert r.status_code == 400 and "choose one of your exhibits" in r.text
    r = create_token(web, "Camera", scope="root")
    assert r.status_code == 400
    assert new_token(web, "Kiosk", scope="kiosk", exhibit_id=mona).startswith("ec_")
    _invite(users["alice"], users["bob"], org["id"], "viewer")
    r = create_token(portal_login(server.url, "bob"), "Kiosk", scope="kiosk", exhibit_id=mona)
    assert r.status_code == 400 and "Viewers cannot record" in r.text  # a viewer records nowhere
    r = httpx.post(f"{server.url}/api/v1/token",
                   data={"username": "alice", "password": "Correct-Horse-42", "scope": "kiosk"})
    assert r.status_code == 422 and "kiosk token is created on the Account page" in r.json()["detail"]


def test_a_read_token_only_reads(server, users):
    alice = users["alice"]
    _, (mona, _) = _museum(alice)
    reader = bearer(server, new_token(portal_login(server.url, "alice"), "Dashboard", scope="read"))
    assert reader.get("/exhibits").status_code == 200
    assert reader.get(f"/exhibits/{mona}/summary").status_code == 200
    for method, path, body in (("POST", "/organisations", {"name": "X"}),
                               ("PATCH", f"/exhibits/{mona}", {"name": "Mine"}),
                               ("POST", "/sessions", {"exhibit_id": mona}),
                               ("DELETE", "/analyses/1", None)):
        r = reader.request(method, path, json=body)
        assert r.status_code == 403, (method, path)
        assert "'read' scope" in r.json()["detail"] and "'full' scope" in r.json()["detail"]
    assert alice.get(f"/exhibits/{mona}").json()["name"] == "Mona Lisa"  # nothing changed
    token = httpx.post(f"{server.url}/api/v1/token", data={
        "username": "alice", "password": "Correct-Horse-42", "scope": "read"}).json()
    assert token["scope"] == "read"
    assert bearer(server, token["access_token"]).post("/organisations", json={"name": "X"}).status_code == 403


def test_a_kiosk_token_records_at_its_exhibit_and_does_nothing_else(server, users, portrait_jpeg):
    alice, bob = users["alice"], users["bob"]
    _, (mona, venus) = _museum(alice)
    kiosk = bearer(server, new_token(portal_login(server.url, "alice"), "Hall", "kiosk", mona))
    sess = kiosk.post("/sessions", json={"exhibit_id": mona})
    assert sess.status_code == 201, sess.text
    sid = sess.json()["id"]
    assert _frame(kiosk, sid, portrait_jpeg).status_code == 200
    assert kiosk.get(f"/sessions/{sid}").status_code == 200
    r = kiosk.post("/sessions", json={"exhibit_id": venus})
    assert r.status_code == 403 and f"exhibit {mona} only" in r.json()["detail"]
    for method, path in (("GET", f"/exhibits/{venus}"), ("GET", f"/exhibits/{mona}"),
                         ("GET", f"/exhibits/{mona}/summary"), ("GET", "/analyses"),
                         ("GET", "/organisations"), ("POST", "/analyses"), ("GET", "/videos/1")):
        r = kiosk.request(method, path)
        assert r.status_code == 403, (method, path)
        assert "'kiosk' scope" in r.json()["detail"] and "'read' or 'full'" in r.json()["detail"]
    elsewhere = alice.post("/sessions", json={"exhibit_id": venus}).json()["id"]  # alice's laptop
    assert _frame(kiosk, elsewhere, portrait_jpeg).status_code == 403
    assert kiosk.post(f"/sessions/{elsewhere}/stop").status_code == 403
    bobs_org = bob.post("/organisations", json={"name": "Prado"}).json()
    bobs = bob.post("/exhibits", json={"organisation_id": bobs_org["id"], "name": "Meninas"}).json()
    bobs_session = bob.post("/sessions", json={"exhibit_id": bobs["id"]}).json()["id"]
    assert _frame(kiosk, bobs_session, portrait_jpeg).status_code == 404  # not alice's: 404
    assert kiosk.post(f"/sessions/{sid}/stop").status_code == 200


def test_logout_and_password_change_revoke_tokens(server, users):
    first = login(server, "alice")
    assert first.post("/token/revoke").status_code == 204  # the API's log-out
    assert first.get("/analyses").status_code == 401
    api_login = login(server, "alice")
    web = portal_login(server.url, "alice")
    device = bearer(server, new_token(web, "Camera", scope="full"))
    web.post("/logout", data={"csrf_token": csrf(web, "/menu")})
    assert api_login.get("/analyses").status_code == 401  # the portal's log-out ends API logins
    assert device.get("/analyses").status_code == 200  # a device's token stays
    web = portal_login(server.url, "alice")
    r = web.post("/account/password", data={
        "current_password": "Correct-Horse-42", "new_password": "Another-Horse-77",
        "confirm": "Another-Horse-77", "csrf_token": csrf(web, "/account/password")})
    assert r.status_code == 302
    r = device.get("/analyses")
    assert r.status_code == 401 and "revoked" in r.json()["detail"]  # a password change: every token


def test_roles_decide_who_edits_records_and_manages_members(server, users, config, portrait_jpeg):
    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    make_user(config, "dave")
    dave = login(server, "dave")
    org, (mona, _) = _museum(alice)
    oid = org["id"]
    _invite(alice, bob, oid, "viewer")
    _invite(alice, carol, oid, "manager")
    # a viewer reads the dashboards only
    assert bob.get(f"/exhibits/{mona}/summary").status_code == 200
    for r in (bob.patch(f"/exhibits/{mona}", json={"name": "Mine"}),
              bob.patch(f"/exhibits/{mona}", json={"archived": True}),
              bob.post("/exhibits", json={"organisation_id": oid, "name": "X"}),
              bob.post("/sessions", json={"exhibit_id": mona})):
        assert r.status_code == 403 and "viewers cannot" in r.json()["detail"], r.text
    r = bob.post("/analyses", files={"image": ("p.jpg", portrait_jpeg, "image/jpeg")},
                 data={"exhibit_id": str(mona)})
    assert r.status_code == 404 and "viewers only read" in r.json()["detail"]
    assert dave.patch(f"/exhibits/{mona}", json={"name": "Mine"}).status_code == 404  # not a member
    assert dave.get(f"/organisations/{oid}/members").status_code == 404
    # a manager edits and records, but does not manage people
    assert carol.patch(f"/exhibits/{mona}", json={"name": "Gioconda"}).json()["name"] == "Gioconda"
    carols_session = carol.post("/sessions", json={"exhibit_id": mona}).json()["id"]
    for r in (carol.post(f"/organisations/{oid}/invitations"),
              carol.delete(f"/organisations/{oid}/members/bob"),
              carol.patch(f"/organisations/{oid}/members/bob", json={"role": "manager"}),
              carol.post(f"/organisations/{oid}/transfer", json={"username": "carol"})):
        assert r.status_code == 403 and "only the organisation's owner" in r.json()["detail"]
    assert [(m["username"], m["role"]) for m in alice.get(f"/organisations/{oid}/members").json()] == [
        ("alice", "owner"), ("bob", "viewer"), ("carol", "manager")]
    # the owner promotes bob, removes carol (her running session stops taking frames)
    assert alice.patch(f"/organisations/{oid}/members/bob", json={"role": "manager"}).json()["role"] == "manager"
    assert bob.patch(f"/exhibits/{mona}", json={"location": "Room 6"}).status_code == 200
    assert alice.patch(f"/organisations/{oid}/members/bob", json={"role": "owner"}).status_code == 422
    assert alice.delete(f"/organisations/{oid}/members/nobody").status_code == 404
    assert alice.delete(f"/organisations/{oid}/members/alice").status_code == 403  # transfer first
    assert alice.delete(f"/organisations/{oid}/members/carol").status_code == 204
    assert carol.get(f"/exhibits/{mona}").status_code == 404
    r = _frame(carol, carols_session, portrait_jpeg)
    assert r.status_code == 403 and "no longer allowed" in r.json()["detail"]
    # the ownership moves to bob; alice stays as a manager and bob may now remove her
    moved = alice.post(f"/organisations/{oid}/transfer", json={"username": "bob"})
    assert moved.status_code == 200 and moved.json()["role"] == "manager"
    assert alice.delete(f"/organisations/{oid}/members/bob").status_code == 403
    assert bob.get(f"/organisations/{oid}").json()["role"] == "owner"
    assert bob.delete(f"/organisations/{oid}/members/alice").status_code == 204
    assert alice.get(f"/organisations/{oid}").status_code == 404


def test_a_member_may_leave(server, users):
    alice, bob = users["alice"], users["bob"]
    org, (mona, _) = _museum(alice)
    _invite(alice, bob, org["id"], "viewer")
    assert bob.delete(f"/organisations/{org['id']}/members/BOB").status_code == 204
    assert bob.get(f"/exhibits/{mona}").status_code == 404
    assert alice.delete(f"/organisations/{org['id']}/members/bob").status_code == 404  # gone
