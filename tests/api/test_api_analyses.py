"""POST/GET/DELETE /api/v1/analyses over real HTTP: the stored document, downloads, scoping,
and every refusal (404 other user, 413, 415, 422)."""
from __future__ import annotations

import json
from pathlib import Path

import db


def _post(client, data: bytes, name="portrait.jpg", mime="image/jpeg", **fields):
    return client.post("/analyses", files={"image": (name, data, mime)}, data=fields)


def test_analysis_round_trip_and_downloads(users, portrait_jpeg, config):
    alice = users["alice"]
    r = _post(alice, portrait_jpeg, title="Visitor", notes="n", consent="true")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["faces_found"] == 1 and doc["title"] == "Visitor" and doc["consent"] is True
    face = doc["result"]["faces"][0]
    assert set(face) >= {"box", "emotion", "probabilities"} and len(face["probabilities"]) == 7
    assert doc["dominant_emotion"] == face["emotion"] and doc["user"] == "alice"
    assert alice.get(f"/analyses/{doc['id']}").json() == doc
    download = alice.get(f"/analyses/{doc['id']}/json")
    assert download.json() == doc
    assert download.headers["content-disposition"].startswith(f'attachment; filename="emotion-{doc["id"]}-visitor')
    pdf = alice.get(f"/analyses/{doc['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    img = alice.get(f"/analyses/{doc['id']}/image/annotated")
    assert img.status_code == 200 and img.content[:3] == b"\xff\xd8\xff"
    page = alice.get("/analyses", params={"per_page": 1}).json()
    assert page["total"] == 1 and page["items"][0]["id"] == doc["id"] and page["pages"] == 1
    with db.connection():
        comp = db.get_computation(doc["owner_id"], doc["id"])
    files = [Path(config.data_dir) / p for p in (comp.original_path, comp.annotated_path)]
    assert all(f.is_file() for f in files)
    assert alice.delete(f"/analyses/{doc['id']}").status_code == 204
    assert not any(f.exists() for f in files)
    assert alice.get(f"/analyses/{doc['id']}").status_code == 404
    assert not (Path(config.data_dir) / "tmp").exists()  # the upload is analysed from memory: no temp file


def test_other_users_analyses_answer_404(users, portrait_jpeg):
    doc = _post(users["alice"], portrait_jpeg, title="Mine").json()
    bob = users["bob"]
    for path in ("", "/json", "/pdf", "/image/original", "/image/annotated"):
        r = bob.get(f"/analyses/{doc['id']}{path}")
        assert r.status_code == 404 and r.json() == {"detail": "analysis not found"}, path
    assert bob.delete(f"/analyses/{doc['id']}").status_code == 404
    assert bob.get("/analyses").json()["total"] == 0
    assert users["alice"].get(f"/analyses/{doc['id']}").status_code == 200


def test_bad_uploads_are_refused_with_the_right_status(users, portrait_jpeg):
    alice = users["alice"]
    r = _post(alice, b"this is not an image", name="notes.txt", mime="text/plain", title="x")
    assert r.status_code == 415 and "cannot be analysed" in r.json()["detail"]
    r = _post(alice, b"\xff\xd8\xff" + b"\0" * 100, title="x")  # truncated JPEG
    assert r.status_code == 415
    r = _post(alice, b"", title="x")
    assert r.status_code == 422 and r.json()["detail"] == "the image is empty"
    big = portrait_jpeg + b"\0" * (2 * 1024 * 1024)
    r = _post(alice, big, title="x")
    assert r.status_code == 413 and "too large" in r.json()["detail"]
    r = alice.post("/analyses", data={"title": "no image"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "image"]
    r = _post(alice, portrait_jpeg, title="x", exhibit_id="abc")
    assert r.status_code == 422
    r = _post(alice, portrait_jpeg, title="x", exhibit_id="999")
    assert r.status_code == 404 and "exhibit" in r.json()["detail"]
    r = _post(alice, portrait_jpeg, title="t" * 201)
    assert r.status_code == 422
    r = alice.get("/analyses", params={"page": 0})
    assert r.status_code == 422
    assert alice.get("/analyses").json()["total"] == 0  # nothing stored half-way


def test_a_huge_declared_body_is_refused_before_it_is_read(server, users):
    import httpx

    def chunks():
        for _ in range(40):
            yield b"\0" * 65536  # 2.5 MB without a Content-Length (chunked)
    r = httpx.post(f"{server.url}/api/v1/analyses", content=chunks(),
                   headers={**users["alice"].headers, "content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413 and json.loads(r.text)["detail"].startswith("the request is too large")
