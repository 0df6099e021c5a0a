"""An opted-in visit (issue 21) in a real headless Chromium with a fake webcam: "Personalise my
visit" at one kiosk, the code entered at a second kiosk (its recording counts for the visit),
"What next", the visitor's phone page, then "End visit" deletes it all.  Screenshots:
docs/screenshots/kiosk-visit-code.png, kiosk-visit-next.png, visit-phone.png."""
from __future__ import annotations

import time

import pytest

import db
from db import museum
from db import visits as visit_table
from tests.helpers import REPO
from tests.helpers.app import (CHROMIUM, ServerThread, launch_with_camera, register_in_browser, webcam_frames,
                               write_y4m)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = REPO / "docs" / "screenshots"

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is missing (make browser-deps)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def server(config, settings):
    import run

    app = run.build_app(config, realtime_settings=settings)
    with ServerThread(app) as srv:
        yield srv


def _register(page, url: str) -> dict:
    register_in_browser(page, url)
    with db.connection():
        alice = db.get_user_by_username("alice").id
        org = museum.create_organisation(alice, "Louvre")
        return {name: museum.create_exhibit(alice, org.id, name, room).id
                for name, room in (("Mona Lisa", "Salle 711"), ("Venus de Milo", "Salle 345"),
                                   ("Winged Victory", "Daru staircase"))}


def _visit_rows() -> int:
    with db.connection():
        return visit_table.VisitSession.select().count()


def test_personalise_enter_code_what_next_and_end(server, tmp_path):
    y4m = write_y4m(tmp_path / "webcam.y4m", webcam_frames(45), fps=15)
    url = server.url
    with playwright.sync_playwright() as p:
        browser = launch_with_camera(p, y4m)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.grant_permissions(["camera"], origin=url)
            first = context.new_page()
            first.set_default_timeout(60_000)
            errors = []
            first.on("console", lambda m: m.type == "error" and errors.append(m.text))
            ids = _register(first, url)
            first.goto(f"{url}/kiosk/{ids['Mona Lisa']}")
            first.click("#kiosk-start-button")  # the staff's start screen
            first.wait_for_selector("#kiosk-status:has-text('Recording')", timeout=90_000)
            first.click("#visit-personalise")
            first.wait_for_selector("#visit-new-code:not(:empty)")
            code = first.inner_text("#visit-new-code")
            assert f"/visit/{code}" in first.inner_text("#visit-url")
            SHOTS.mkdir(parents=True, exist_ok=True)
            first.screenshot(path=str(SHOTS / "kiosk-visit-code.png"))
            first.click("[data-step=created] .visit-done")

            second = context.new_page()
            second.set_default_timeout(60_000)
            second.on("console", lambda m: m.type == "error" and errors.append(m.text))
            second.goto(f"{url}/kiosk/{ids['Venus de Milo']}")
            second.click("#kiosk-start-button")  # the staff's start screen
            second.wait_for_selector("#kiosk-status:has-text('Recording')", timeout=90_000)
            second.click("#visit-have-code")
            second.fill("#visit-code-input", code.lower().replace("-", " "))
            second.click("#visit-code-form button[type=submit]")
            second.wait_for_selector("#visit-joined", state="visible")
            assert _visit_rows() == 1
            time.sleep(3)  # a few frames of the visitor at this kiosk
            second.click("[data-step=joined] .visit-what-next")
            second.wait_for_selector("#visit-suggestions li")
            names = second.inner_text("#visit-suggestions")
            assert "Venus de Milo" not in names and "Mona Lisa" in names
            second.screenshot(path=str(SHOTS / "kiosk-visit-next.png"))

            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            phone.goto(f"{url}/visit/{code}")
            assert "Mona Lisa" in phone.inner_text("#suggestions")
            assert "never the face" in phone.inner_text("#visit-kept")
            phone.screenshot(path=str(SHOTS / "visit-phone.png"), full_page=True)

            second.click("[data-step=next] .visit-end")
            second.wait_for_selector("#visit-ended", state="visible")
            with db.connection():
                assert visit_table.Visit.select().count() == 0
            assert _visit_rows() == 0
            phone.reload()
            assert "There is no visit with this code" in phone.inner_text("main")
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            browser.close()
