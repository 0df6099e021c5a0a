"""Issue 18 (Low): a NUL character in any API text field is refused with 422 naming the field,
on SQLite and on PostgreSQL (which cannot store one: before, 500 with a traceback in the log),
also for the anonymous ``POST /token``.  Over HTTP against run.py's server."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.security


def _refused(response, field: str) -> None:
    assert response.status_code == 422, (response.status_code, response.text)
    assert field in response.text and "NUL" in response.text, response.text


def test_nul_characters_are_422_naming_the_field(anon, users, config, portrait_jpeg):
    _refused(anon.post("/token", data={"username": "ali\x00ce", "password": "x"}), "username")
    _refused(anon.post("/token", data={"username": "alice", "password": "x\x00y"}), "password")
    alice = users["alice"]
    _refused(alice.post("/organisations", json={"name": "Mu\x00seum"}), "name")
    _refused(alice.get("/analyses", params={"q": "a\x00"}), "q")
    _refused(alice.post("/analyses", files={"image": ("p.jpg", portrait_jpeg, "image/jpeg")},
                        data={"title": "ti\x00tle"}), "title")
    org = alice.post("/organisations", json={"name": "Museum"})
    assert org.status_code == 201, org.text  # the clean request still works
    _refused(alice.post("/exhibits", json={"organisation_id": org.json()["id"], "name": "Ex\x00"}),
             "name")
    log = (config.log_file).read_text() if config.log_file.exists() else ""
    assert "Traceback" not in log
