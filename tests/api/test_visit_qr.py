"""The QR code of a visit's URL (issue 21): drawn server-side by segno as a PNG data URI (the
portal's CSP allows ``img-src data:``, no script), on the phone page and in the kiosk's
"Personalise my visit" answer; OpenCV's detector reads back exactly the visit's URL, and the code
reaches no log line."""
from __future__ import annotations

import base64
import logging
import re

import cv2
import httpx
import numpy as np

from tests.helpers.api import portal_login

from .test_api_visits import _start, config_overrides  # noqa: F401 (4 guesses)
from .test_kiosk_visits import _kiosk, _post, site  # noqa: F401 (site: alice's Louvre)

DATA_URI = re.compile(r'<img id="visit-qr" class="visit-qr" src="(data:image/png;base64,[A-Za-z0-9+/=]+)"')


def decoded(uri: str) -> str:
    prefix, _, payload = uri.partition(",")
    assert prefix == "data:image/png;base64"
    image = cv2.imdecode(np.frombuffer(base64.b64decode(payload), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None and image.shape[0] == image.shape[1] >= 150
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return text


def _no_code_logged(caplog, code: str) -> None:
    lines = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    raw = code.replace("-", "")
    assert code not in lines and raw not in lines and raw.lower() not in lines


def test_the_phone_page_shows_the_qr_code_of_its_url(server, users, caplog):
    caplog.set_level(logging.DEBUG)
    alice = users["alice"]
    org = alice.post("/organisations", json={"name": "Tate"}).json()["id"]
    visit = _start(alice, org)
    with httpx.Client(base_url=server.url, timeout=60) as phone:
        page = phone.get(f"/visit/{visit['code'].lower()}")  # as typed: the QR has the canonical URL
    assert page.status_code == 200, page.text
    assert "img-src 'self' data:" in page.headers["content-security-policy"]
    assert "<script" not in page.text.split('id="visit-qr"')[1].split("</p>")[0]
    assert decoded(DATA_URI.search(page.text).group(1)) == visit["url"]
    _no_code_logged(caplog, visit["code"])


def test_the_kiosk_shows_the_qr_code_of_a_new_visit(site, caplog):
    caplog.set_level(logging.DEBUG)
    alice = portal_login(site["url"], "alice")
    csrf, page = _kiosk(alice, site["mona"])
    assert 'id="visit-qr"' in page and "hidden" in page.split('id="visit-qr"')[1].split(">")[0]
    body = _post(alice, f"/kiosk/{site['mona']}/visit", csrf).json()
    assert body["url"].endswith(f"/visit/{body['code']}")
    assert decoded(body["qr"]) == body["url"]
    _no_code_logged(caplog, body["code"])


def test_a_text_too_long_gets_no_qr_code():
    from portal.museum.qr import png_data_uri

    assert png_data_uri("x" * 5000) is None
    assert png_data_uri("https://example.org/visit/AAAA-BBBB-CCCC").startswith("data:image/png;base64,")
