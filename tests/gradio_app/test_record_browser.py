"""In a real headless Chromium with a fake webcam: the kiosk page shows the visitor notice and
records by itself; Record on the live page stores observations and Stop shows the summary.
Screenshots: docs/screenshots/kiosk.png and live-record.png."""
from __future__ import annotations

import logging
import os
import time

import pytest

import db
from db import museum, observations
from tests.helpers import REPO
from tests.helpers.app import (CHROMIUM, ServerThread, launch_with_camera, register_in_browser, webcam_frames,
                               write_y4m)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
log = logging.getLogger(__name__)
SHOTS = REPO / "docs" / "screenshots"
BUSY_LOAD = 1.5  # load average per core above which slowness is blamed on the machine

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is missing (make browser-deps)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def server(config, settings):
    import run

    app = run.build_app(config, realtime_settings=settings)
    with ServerThread(app) as srv:
        yield srv


def _stored(exhibit_id: int) -> list[dict]:
    with db.connection():
        return observations.observation_rows(exhibit_id)


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return predicate()


def test_kiosk_and_live_record(server, tmp_path):
    y4m = write_y4m(tmp_path / "webcam.y4m", webcam_frames(45), fps=15)
    url = server.url
    with playwright.sync_playwright() as p:
        browser = launch_with_camera(p, y4m)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.grant_permissions(["camera"], origin=url)
            page = context.new_page()
            page.set_default_timeout(60_000)
            blocked = []  # the portal's CSP (no inline script) must not block the kiosk
            page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
            register_in_browser(page, url)
            with db.connection():
                alice = db.get_user_by_username("alice").id
                org = museum.create_organisation(alice, "Louvre")
                exhibit = museum.create_exhibit(alice, org.id, "Mona Lisa", "Salle 711").id

            # the kiosk: the notice at once, nothing recorded until staff press Start recording
            page.goto(f"{url}/kiosk/{exhibit}")
            assert "Emotion recognition in use" in page.inner_text("#visitor-notice")
            assert page.inner_text("#kiosk-status") == "Not recording."
            time.sleep(2)
            assert _stored(exhibit) == [] and not page.is_visible("#visit-panel")
            page.click("#kiosk-start-button")
            page.wait_for_selector("#kiosk-status:has-text('Recording')", timeout=90_000)
            assert _wait_for(lambda: len(_stored(exhibit)) >= 3, 60), page.inner_text("#kiosk-status")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "kiosk.png"))
            kiosk_rows = _stored(exhibit)
            assert {r["source"] for r in kiosk_rows} == {"session"}
            log.info("kiosk stored %d observations: %s", len(kiosk_rows), page.inner_text("#kiosk-status"))
            page.goto(f"{url}/exhibits/{exhibit}")  # leaving the page: its beacon stops the session

            def stopped():
                page.reload()
                return "stopped" in page.inner_text("#sessions-table")
            assert _wait_for(stopped, 20), page.inner_text("#sessions-table")
            assert not blocked, blocked[:3]

            # Record on the live page
            page.goto(url + "/app/?tab=live")
            page.wait_for_selector("#signed-in-user:has-text('alice')")
            page.click("#record-exhibit input")
            page.click("[role=option]:has-text('Mona Lisa')")
            page.click("#record-start")
            page.wait_for_selector("#record-status:has-text('Recording')")
            before = len(_stored(exhibit))
            page.click("#webcam >> text=Click to Access Webcam")
            page.click("#webcam button[aria-label='Start camera']")
            page.wait_for_selector("#live-frame")
            time.sleep(12.0)  # more than one flush period
            page.wait_for_function("!document.querySelector('#record-status').innerText"
                                   ".includes(' 0 frame(s)')", timeout=30_000)  # the timer's counts
            grew = len(_stored(exhibit)) > before
            load = os.getloadavg()[0]
            if not grew:
                assert load > BUSY_LOAD * (os.cpu_count() or 1), "no observation flushed while recording"
            page.screenshot(path=str(SHOTS / "live-record.png"), full_page=True)
            # stop the webcam first: under load the streaming page can starve a click
            page.click("#webcam button[aria-label='Stop camera']")
            page.click("#record-stop")
            page.wait_for_selector("#record-status:has-text('Recording saved')")
            assert len(_stored(exhibit)) > before, page.inner_text("#record-status")
            log.info("live record: %s", page.inner_text("#record-status"))
        finally:
            browser.close()
