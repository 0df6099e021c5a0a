import io
import json

import pytest

import db
from tests.helpers.web import add_computation, csrf_token, post, register

PER_COMPUTATION_GETS = ["/history/{id}", "/history/{id}/image/annotated",
                        "/history/{id}/image/original", "/history/{id}/thumb",
                        "/history/{id}/json", "/history/{id}/pdf"]


def test_empty_history(client, alice):
    page = client.get("/history").get_data(as_text=True)
    assert "No saved results yet." in page
    assert 'href="/app/?tab=upload"' in page and 'href="/app/?tab=live"' in page


def test_list_newest_first_with_thumbnails_and_links(client, config, alice):
    first = add_computation(config, alice.id, title="First portrait")
    second = add_computation(config, alice.id, title="Group photo", faces=3, kind="webcam")
    page = client.get("/history").get_data(as_text=True)
    assert page.index("Group photo") < page.index("First portrait")
    for comp in (first, second):
        for url in (f"/history/{comp.id}/thumb", f"/history/{comp.id}/pdf",
                    f"/history/{comp.id}/json", f"/history/{comp.id}"):
            assert f'href="{url}"' in page or f'src="{url}"' in page
    assert "3 faces found" in page and "Room 3" in page and "Webcam capture" in page
    assert "dominant emotion" in page
    thumb = client.get(f"/history/{first.id}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    from PIL import Image
    assert Image.open(io.BytesIO(thumb.data)).size == (64, 48)


def test_pagination(client, config, alice):
    for i in range(config.per_page + 2):
        add_computation(config, alice.id, title=f"item-{i:02d}", files=False)
    page1 = client.get("/history").get_data(as_text=True)
    assert "item-11" in page1 and "item-02" in page1 and "item-01" not in page1
    assert "Page 1 of 2" in page1 and 'href="/history?page=2"' in page1
    page2 = client.get("/history?page=2").get_data(as_text=True)
    assert "item-01" in page2 and "item-00" in page2 and "item-02" not in page2
    resp = client.get("/history?page=7")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("page=2")
    assert client.get("/history?page=abc").status_code == 200


def test_detail_reopens_result(client, config, alice):
    comp = add_computation(config, alice.id, title="Portrait of a lady", faces=2)
    page = client.get(f"/history/{comp.id}").get_data(as_text=True)
    assert "Portrait of a lady" in page and "Room 3" in page and "A note" in page
    assert page.count('<th scope="row">') == 2 and "70.0" in page and "fer-v1" in page
    assert f'src="/history/{comp.id}/image/annotated"' in page and 'alt="Portrait of a lady' in page
    img = client.get(f"/history/{comp.id}/image/annotated")
    assert img.status_code == 200 and img.mimetype == "image/png"
    assert img.data == (config.data_dir / comp.annotated_path).read_bytes()


def test_no_face_result_and_missing_files(client, config, alice):
    comp = add_computation(config, alice.id, title="Empty room", faces=0, files=False)
    page = client.get(f"/history/{comp.id}").get_data(as_text=True)
    assert "No face was found" in page
    assert client.get(f"/history/{comp.id}/image/annotated").status_code == 404
    thumb = client.get(f"/history/{comp.id}/thumb")
    assert thumb.status_code == 302 and thumb.headers["Location"].endswith("no-image.svg")
    pdf = client.get(f"/history/{comp.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_json_download(client, config, alice):
    comp = add_computation(config, alice.id, title="Mona Lisa!")
    resp = client.get(f"/history/{comp.id}/json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"emotion-{comp.id}-mona-lisa-" in disposition
    data = json.loads(resp.data)
    assert data["id"] == comp.id and data["user"] == "alice" and data["title"] == "Mona Lisa!"
    assert data["result"]["faces"][0]["probabilities"]["happy"] == 0.7
    assert data["faces_found"] == 2 and data["dominant_emotion"] == "happy"
    assert "original_path" not in data


def test_pdf_download(client, config, alice):
    from pypdf import PdfReader
    comp = add_computation(config, alice.id, title="Mona Lisa", faces=2)
    resp = client.get(f"/history/{comp.id}/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert f"emotion-{comp.id}-mona-lisa-" in resp.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(resp.data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    for expected in ("Mona Lisa", "alice", "Room 3", "A note", "fer-v1", "happy", "70.0",
                     "Probability chart", "Face 2"):
        assert expected in text, expected
    assert sum(len(p.images) for p in reader.pages) == 1


def test_delete_computation_removes_row_and_files(client, config, alice):
    keep = add_computation(config, alice.id, title="Keep")
    gone = add_computation(config, alice.id, title="Gone")
    files = [config.data_dir / gone.original_path, config.data_dir / gone.annotated_path]
    assert all(f.exists() for f in files)
    resp = post(client, f"/history/{gone.id}/delete", {"confirm": "yes"}, page="/history")
    assert resp.status_code == 302
    assert "have been deleted" in client.get("/history").text
    assert not any(f.exists() for f in files)
    assert (config.data_dir / keep.annotated_path).exists()
    with db.connection():
        assert db.get_computation(alice.id, gone.id) is None
        assert db.get_computation(alice.id, keep.id) is not None
    assert client.get(f"/history/{gone.id}").status_code == 404


@pytest.fixture
def bobs_computation(app, config):
    bob = app.test_client()
    register(bob, "bob")
    with db.connection():
        bob_id = db.get_user_by_username("bob").id
    return add_computation(config, bob_id, title="Bob's secret")


@pytest.mark.parametrize("template", PER_COMPUTATION_GETS)
def test_other_users_computation_is_404(client, alice, bobs_computation, template):
    resp = client.get(template.format(id=bobs_computation.id))
    assert resp.status_code == 404
    assert "Bob's secret" not in resp.text and "Page not found" in resp.text


@pytest.mark.parametrize("template", PER_COMPUTATION_GETS)
def test_missing_computation_is_404(client, alice, template):
    assert client.get(template.format(id=999999)).status_code == 404


def test_other_users_computation_cannot_be_deleted(client, config, alice, bobs_computation):
    token = csrf_token(client, "/history")
    resp = client.post(f"/history/{bobs_computation.id}/delete", data={"csrf_token": token})
    assert resp.status_code == 404
    with db.connection():
        assert db.Computation.get_or_none(id=bobs_computation.id) is not None
    assert (config.data_dir / bobs_computation.annotated_path).exists()


@pytest.mark.parametrize("template", PER_COMPUTATION_GETS + ["/history/{id}/delete"])
def test_anonymous_cannot_reach_computations(client, bobs_computation, template):
    url = template.format(id=bobs_computation.id)
    resp = client.post(url) if url.endswith("delete") else client.get(url)
    assert resp.status_code in (302, 400)
    assert "Bob" not in resp.get_data(as_text=True)
    if resp.status_code == 302:
        assert resp.headers["Location"].startswith("/login")


def test_downloads_keep_accented_titles(client, config, alice):
    """'café' used to download as 'caf': RFC 6266 filename* keeps it, filename= is the ASCII fallback."""
    from urllib.parse import quote
    comp = add_computation(config, alice.id, title="Café Crème")
    for fmt in ("json", "pdf"):
        disposition = client.get(f"/history/{comp.id}/{fmt}").headers["Content-Disposition"]
        assert f"filename*=UTF-8''{quote(f'emotion-{comp.id}-café-crème-')}" in disposition, disposition
        fallback = disposition.split("filename*=")[0]
        assert "filename=" in fallback and f"emotion-{comp.id}-cafe-creme-" in fallback and fallback.isascii()


def test_delete_asks_for_confirmation_first(client, config, alice):
    """One POST (a stray click, or no JavaScript) shows a confirmation page and deletes nothing."""
    import re
    comp = add_computation(config, alice.id, title="Precious")
    resp = post(client, f"/history/{comp.id}/delete", {"page": "2"}, page="/history")
    assert resp.status_code == 200 and "Delete “Precious”?" in resp.text and "cannot be undone" in resp.text
    with db.connection():
        assert db.get_computation(alice.id, comp.id) is not None
    assert (config.data_dir / comp.annotated_path).exists()
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*id="confirm-delete">(.*?)</form>', resp.text, re.S)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    assert form.group(1) == f"/history/{comp.id}/delete" and fields["confirm"] == "yes" and fields["page"] == "2"
    assert client.post(form.group(1), data=fields).status_code == 302
    with db.connection():
        assert db.get_computation(alice.id, comp.id) is None
