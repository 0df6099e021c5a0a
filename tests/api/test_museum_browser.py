"""The exhibit dashboard, the organisation overview, the token page and the API docs in a real
headless Chromium, with every request to another host blocked (no CDN).  Screenshots go to
artifacts/browser/.  Needs Debian's chromium (`make browser-deps`)."""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

import db
from db import museum as museum_api, observations
from tests.helpers import PASSWORD, REPO
from tests.helpers.api import make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "artifacts" / "browser"
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

if not CHROMIUM.exists():
    pytest.skip("browser test skipped: /usr/bin/chromium is missing (`make browser-deps`)",
                allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


def _visits(owner: int, exhibit_id: int, rng: random.Random) -> None:
    """A week of recording sessions: a few visitors each, staying 5-60 s."""
    with db.connection():
        for day in range(7):
            for hour in (10, 13, 16):
                sess = observations.start_session(owner, exhibit_id)
                sess.started_at = dt.datetime(2026, 3, 2 + day, hour, 5)
                sess.save()
                for track in range(1, rng.randint(2, 6)):
                    stay = rng.uniform(5, 60)
                    weights = [rng.random() ** 2 for _ in EMOTIONS]
                    weights[3 if track % 2 else 6] += 1.0
                    for k in range(int(stay // 2) + 1):
                        total = sum(weights)
                        probs = {e: w / total for e, w in zip(EMOTIONS, weights)}
                        face = {"track_id": track, "box": [0, 0, 60, 60], "probabilities": probs,
                                "emotion": max(probs, key=probs.get)}
                        observations.add_session_observations(sess, track * 3 + 2 * k, [face])


def test_dashboard_overview_and_api_docs_in_a_browser(server, config, database_url):
    if "://" in database_url:
        pytest.skip("the browser test runs once, on SQLite")
    alice = make_user(config, "alice")
    with db.connection():
        org = museum_api.create_organisation(alice, "Musée d'Orsay")
        exhibit = museum_api.create_exhibit(alice, org.id, "Bal du moulin de la Galette", "Room 30",
                                            "Renoir, 1876")
        museum_api.create_exhibit(alice, org.id, "Les Raboteurs de parquet", "Room 31")
    _visits(alice, exhibit.id, random.Random(3))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            outside, failed = [], []

            def only_local(route):
                if urlsplit(route.request.url).hostname != "127.0.0.1":
                    outside.append(route.request.url)
                    return route.abort()
                return route.continue_()
            page.route("**/*", only_local)
            page.on("response", lambda r: r.status >= 400 and failed.append((r.status, r.url)))
            page.on("console", lambda m: m.type == "error" and failed.append(("console", m.text)))
            page.goto(server.url + "/login")
            page.fill("#login", "alice")
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url("**/menu")
            page.click("header a:has-text('Museums')")
            page.click("text=Musée d'Orsay")
            assert page.locator("table.faces tbody tr").count() == 2
            page.screenshot(path=str(ARTIFACTS / "museum-organisation.png"), full_page=True)
            page.click("text=Bal du moulin de la Galette")
            page.wait_for_function("() => [...document.querySelectorAll('.chart img')].every("
                                   "i => i.complete && i.naturalWidth > 0)")
            assert page.locator(".chart img").count() == 5
            assert int(page.text_content("#visitors")) >= 21
            assert page.locator("#emotions tbody tr").count() == 7
            page.screenshot(path=str(ARTIFACTS / "museum-dashboard.png"), full_page=True)
            page.goto(server.url + "/account/tokens")
            page.fill("#name", "Camera room 30")
            page.fill("#password", PASSWORD)  # creating a token re-checks the password (issue 18)
            page.click("main button[type=submit]")
            assert page.text_content("#new-token").startswith("ec_")
            page.screenshot(path=str(ARTIFACTS / "museum-tokens.png"), full_page=True)
            page.goto(server.url + "/api/v1/docs")
            page.wait_for_selector(".swagger-ui .opblock-summary-path")
            schema = httpx.get(server.url + "/api/v1/openapi.json").json()
            assert page.locator(".opblock").count() == sum(len(m) for m in schema["paths"].values())
            page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
            assert outside == [] and failed == [], (outside, failed)
        finally:
            browser.close()
