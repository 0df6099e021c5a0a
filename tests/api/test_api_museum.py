"""Organisations, invitations, exhibits, recording sessions and summaries over real HTTP:
scoping (404 for other organisations), refusals, and the numbers a camera produces."""
from __future__ import annotations

import csv
import io

import pytest

EXHIBIT_FIELDS = {"id", "organisation_id", "name", "location", "description", "archived", "created_at"}


def _museum(alice):
    org = alice.post("/organisations", json={"name": "Louvre"})
    assert org.status_code == 201, org.text
    exhibit = alice.post("/exhibits", json={"organisation_id": org.json()["id"], "name": "Mona Lisa",
                                            "location": "Room 711", "description": "Portrait"})
    assert exhibit.status_code == 201, exhibit.text
    return org.json(), exhibit.json()


def test_organisation_invitation_and_scoping(users):
    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    org, exhibit = _museum(alice)
    assert org["role"] == "owner" and org["members"] == ["alice"]
    assert set(exhibit) == EXHIBIT_FIELDS and exhibit["location"] == "Room 711"
    eid = exhibit["id"]
    for client in (bob, carol):  # not members yet
        assert client.get(f"/exhibits/{eid}").status_code == 404
        assert client.get(f"/exhibits/{eid}/summary").status_code == 404
        assert client.get(f"/exhibits/{eid}/observations.csv").status_code == 404
        assert client.patch(f"/exhibits/{eid}", json={"archived": True}).status_code == 404
        assert client.get(f"/organisations/{org['id']}").status_code == 404
        assert client.post(f"/organisations/{org['id']}/invitations").status_code == 404
        assert client.post("/exhibits", json={"organisation_id": org["id"], "name": "X"}).status_code == 404
        assert client.post("/sessions", json={"exhibit_id": eid}).status_code == 404
        assert client.get("/exhibits").json() == []
    inv = alice.post(f"/organisations/{org['id']}/invitations")
    assert inv.status_code == 201 and inv.json()["expires_at"].endswith("Z")
    code = inv.json()["code"]
    joined = bob.post(f"/invitations/{code}/accept")
    assert joined.status_code == 200 and joined.json()["role"] == "viewer"  # the default role
    assert joined.json()["members"] == ["alice", "bob"]
    assert bob.get(f"/exhibits/{eid}").json() == exhibit
    assert carol.post(f"/invitations/{code}/accept").status_code == 404  # single use
    assert carol.post("/invitations/short/accept").status_code == 404
    r = bob.post(f"/organisations/{org['id']}/invitations")
    assert r.status_code == 403 and "owner" in r.json()["detail"]
    assert carol.get(f"/exhibits/{eid}").status_code == 404


def test_exhibit_validation_edit_and_archive(users):
    alice = users["alice"]
    org, exhibit = _museum(alice)
    eid = exhibit["id"]
    for body in ({"name": "x"}, {"organisation_id": org["id"]}, {"organisation_id": org["id"], "name": ""},
                 {"organisation_id": org["id"], "name": "   "},
                 {"organisation_id": org["id"], "name": "x", "colour": "red"},
                 {"organisation_id": "abc", "name": "x"}, {"organisation_id": org["id"], "name": "x" * 201}):
        r = alice.post("/exhibits", json=body)
        assert r.status_code == 422, body
        assert "detail" in r.json()
    assert alice.post("/organisations", json={"name": ""}).status_code == 422
    r = alice.patch(f"/exhibits/{eid}", json={"name": "Gioconda", "location": "Salle des États"})
    assert r.status_code == 200 and r.json()["name"] == "Gioconda"
    assert r.json()["location"] == "Salle des États" and r.json()["description"] == "Portrait"
    assert alice.patch(f"/exhibits/{eid}", json={"archived": True}).json()["archived"] is True
    assert alice.get("/exhibits").json() == []
    assert [e["id"] for e in alice.get("/exhibits", params={"include_archived": True}).json()] == [eid]
    assert alice.post("/sessions", json={"exhibit_id": eid}).status_code == 404  # archived
    r = alice.get(f"/exhibits/{eid}/summary", params={"from": "last week"})
    assert r.status_code == 422 and "'from' must be a date" in r.json()["detail"]
    r = alice.get(f"/exhibits/{eid}/summary", params={"from": "2026-02-02", "to": "2026-02-01"})
    assert r.status_code == 422


def _frame(client, sid, jpeg, t):
    return client.post(f"/sessions/{sid}/frames", files={"image": ("f.jpg", jpeg, "image/jpeg")},
                       data={"t": str(t)})


def test_camera_session_tracks_one_visitor_and_summarises(users, portrait_jpeg):
    alice = users["alice"]
    _, exhibit = _museum(alice)
    sess = alice.post("/sessions", json={"exhibit_id": exhibit["id"]})
    assert sess.status_code == 201
    sid = sess.json()["id"]
    tracks = set()
    for i in range(4):
        r = _frame(alice, sid, portrait_jpeg, t=1.5 * i)
        assert r.status_code == 200, r.text
        faces = r.json()["faces"]
        assert len(faces) == 1 and len(faces[0]["probabilities"]) == 7
        tracks.add(faces[0]["track_id"])
    assert tracks == {1}  # the same person across frames
    summary = alice.post(f"/sessions/{sid}/stop")
    assert summary.status_code == 200
    s = summary.json()
    assert (s["visitors"], s["faces"], s["duration_s"]) == (1, 4, 4.5)
    assert s["hidden"] == "too few visitors to show" and s["emotions"] is None  # 1 < 2
    assert _frame(alice, sid, portrait_jpeg, t=9).status_code == 409
    assert alice.post(f"/sessions/{sid}/stop").status_code == 409
    rows = list(csv.DictReader(io.StringIO(alice.get(f"/exhibits/{exhibit['id']}/observations.csv").text)))
    assert rows == []  # one visitor: hidden from the export too
    # a photo attached to the exhibit adds a second visitor: now the numbers show
    photo = alice.post("/analyses", files={"image": ("p.jpg", portrait_jpeg, "image/jpeg")},
                       data={"title": "Group", "exhibit_id": str(exhibit["id"])})
    assert photo.status_code == 201 and photo.json()["exhibit"] == "Mona Lisa"
    summary = alice.get(f"/exhibits/{exhibit['id']}/summary").json()
    assert (summary["visitors"], summary["faces"], summary["dwell_s_median"]) == (2, 5, 4.5)
    assert summary["hidden"] is None and sum(summary["emotions"].values()) == pytest.approx(1.0)
    assert summary["emotions"][photo.json()["dominant_emotion"]] >= 0.2
    response = alice.get(f"/exhibits/{exhibit['id']}/observations.csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert response.headers["content-type"].startswith("text/csv")
    assert sorted(r["source"] for r in rows) == ["session"] * 4 + ["upload"]
    session_rows = [r for r in rows if r["source"] == "session"]
    assert [float(r["t_s"]) for r in session_rows] == [0, 1.5, 3, 4.5]
    assert {r["session_id"] for r in session_rows} == {str(sid)}
    assert [r["analysis_id"] for r in rows if r["source"] == "upload"] == [str(photo.json()["id"])]
    overview = alice.get("/exhibits/overview").json()
    assert [(o["exhibit_id"], o["visitors"]) for o in overview] == [(exhibit["id"], 2)]


def test_session_refusals(users, portrait_jpeg):
    alice, bob = users["alice"], users["bob"]
    _, exhibit = _museum(alice)
    sid = alice.post("/sessions", json={"exhibit_id": exhibit["id"]}).json()["id"]
    assert _frame(bob, sid, portrait_jpeg, 0).status_code == 404  # not bob's session
    assert bob.post(f"/sessions/{sid}/stop").status_code == 404
    assert bob.get(f"/sessions/{sid}").status_code == 404
    assert alice.post("/sessions", json={}).status_code == 422
    assert alice.post("/sessions", json={"exhibit_id": 10**6}).status_code == 404
    for t in ("-1", "nan", "inf", "soon", ""):
        assert _frame(alice, sid, portrait_jpeg, t).status_code == 422, t
    r = alice.post(f"/sessions/{sid}/frames", data={"t": "1"})
    assert r.status_code == 422
    r = alice.post(f"/sessions/{sid}/frames", files={"image": ("a.txt", b"hello", "text/plain")},
                   data={"t": "1"})
    assert r.status_code == 415
    r = _frame(alice, sid, portrait_jpeg + b"\0" * (1024 * 1024), 1)
    assert r.status_code == 413 and "frame is too large" in r.json()["detail"]
    assert alice.get(f"/sessions/{sid}").json()["stopped_at"] is None


def test_a_session_without_faces_lasts_until_its_last_frame(users):
    from tests.helpers.app import jpeg_bytes
    from realtime.research.scenes import background

    alice = users["alice"]
    _, exhibit = _museum(alice)
    sid = alice.post("/sessions", json={"exhibit_id": exhibit["id"]}).json()["id"]
    empty = jpeg_bytes(background("coffee", (480, 640)))
    for t in (0, 2.5, 7.25):
        r = _frame(alice, sid, empty, t)
        assert r.status_code == 200 and r.json() == {"t": t, "faces": []}
    s = alice.post(f"/sessions/{sid}/stop").json()
    assert (s["duration_s"], s["visitors"], s["faces"]) == (7.25, 0, 0)
