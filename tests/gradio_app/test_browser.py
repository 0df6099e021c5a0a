"""End to end in a real headless Chromium with a fake webcam made from face images.

Register, log in, live webcam (count annotated frames -> frames per second), capture,
download PDF + JSON, upload a photo, History lists both, log out, /app refused.
Screenshots go to artifacts/browser/. Needs Debian's chromium (`make browser-deps`).
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pytest

from tests.helpers import PASSWORD, REPO
from tests.helpers.app import ServerThread, jpeg_bytes, webcam_frames, write_y4m

pytestmark = [pytest.mark.browser, pytest.mark.slow]
log = logging.getLogger(__name__)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "artifacts" / "browser"
FPS_SECONDS = 8.0
MIN_FPS = float(os.environ.get("APP_MIN_FPS", "10"))
BUSY_LOAD = 1.5  # load average per core above which a low frame rate is blamed on the machine

if not CHROMIUM.exists():
    pytest.skip("\n\n*** BROWSER TEST SKIPPED: /usr/bin/chromium is missing. Install it with "
                "`make browser-deps` (apt-get install chromium chromium-driver). ***\n",
                allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")

# Wraps fetch to time the frames the page sends (Gradio POSTs each webcam frame to .../stream/<id>)
TIME_SENDS_JS = """(() => {
  window.__sends = [];
  const orig = window.fetch;
  window.fetch = async function(input, init) {
    const url = typeof input === 'string' ? input : (input && input.url) || '';
    if (!url.includes('/stream/') || url.endsWith('/close')) return orig.apply(this, arguments);
    const t0 = performance.now();
    const res = await orig.apply(this, arguments);
    window.__sends.push([t0, performance.now(), (init && init.body && init.body.length) || 0]);
    return res;
  };
})();"""

COUNT_FRAMES_JS = """() => {
  window.__frames = []; let last = null;
  window.__frameTimer = setInterval(() => {
    const img = document.querySelector('#live-frame');
    if (img && img.src !== last) { last = img.src; window.__frames.push(performance.now()); }
  }, 4);
}"""


@pytest.fixture
def server(tmp_path, config, settings):
    import run

    app = run.build_app(config, realtime_settings=settings)
    with ServerThread(app) as srv:
        yield srv


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_end_to_end(server, tmp_path, portrait, record_property):
    import httpx
    from pypdf import PdfReader

    y4m = write_y4m(tmp_path / "webcam.y4m", webcam_frames(45), fps=15)
    photo = tmp_path / "visitors.jpg"
    photo.write_bytes(jpeg_bytes(portrait))
    url = server.url
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={y4m}"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            context.grant_permissions(["camera"], origin=url)
            context.add_init_script(TIME_SENDS_JS)
            page = context.new_page()
            failed = []
            page.on("response", lambda r: r.status >= 400 and failed.append((r.status, r.url)))
            blocked = []  # the pages' Content-Security-Policy must not block anything they need
            page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
            page.set_default_timeout(30_000)

            # anonymous: the app sends us to the login page
            page.goto(url + "/app/?tab=live")
            assert "/login" in page.url

            # register, log out, log in again (back to the live page via ?next=)
            page.goto(url + "/register")
            page.fill("#username", "alice")
            page.fill("#email", "alice@example.org")
            page.fill("#password", PASSWORD)
            page.fill("#confirm", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url("**/menu")
            page.click("header button:has-text('Log out')")
            page.goto(url + "/app/?tab=live")
            assert "/login" in page.url
            page.fill("#login", "alice")
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url("**/app/**")

            # live webcam
            page.wait_for_selector("#signed-in-user:has-text('alice')")
            page.click("#webcam >> text=Click to Access Webcam")
            # one clear control per action: the webcam's own button is relabelled (webcam-labels.js)
            start = page.locator("#webcam button[aria-label='Start camera']")
            start.wait_for()
            assert "Start camera" in start.inner_text() and "Record" not in start.inner_text()
            assert page.locator("[title='start recording'], [title='stop recording']").count() == 0
            start.click()  # start streaming
            page.wait_for_selector("#live-frame")
            time.sleep(1.0)  # warm-up: models loaded, stream settled
            page.evaluate(COUNT_FRAMES_JS)
            captions = []
            for _ in range(8):
                time.sleep(FPS_SECONDS / 8)
                captions.append(page.inner_text("#live-caption"))
            stamps = page.evaluate("window.__frames")
            sends = [x for x in page.evaluate("window.__sends") if x[0] >= stamps[0]]
            fps = (len(stamps) - 1) / ((stamps[-1] - stamps[0]) / 1000.0)
            caption = captions[-1]
            span = (stamps[-1] - stamps[0]) / 1000.0
            sent_fps = len(sends) / span
            post_ms = sorted(e - b for b, e, _ in sends)[len(sends) // 2] if sends else float("nan")
            kb = (sum(n for _, _, n in sends) / max(len(sends), 1)) / 1024
            gaps = sorted(b - a for a, b in zip(stamps, stamps[1:]))
            where = (f"browser sent {sent_fps:.1f} frames/s ({kb:.0f} KB each, POST median {post_ms:.0f} ms), "
                     f"displayed {len(stamps)} frames, median gap {gaps[len(gaps) // 2]:.0f} ms")
            log.info("live webcam in the browser: %d frames, %.1f fps; %s; %s", len(stamps), fps, caption, where)
            record_property("browser_fps", round(fps, 1))
            (ARTIFACTS.mkdir(parents=True, exist_ok=True) or
             (ARTIFACTS / "fps.txt").write_text(
                 f"{fps:.1f} fps ({len(stamps)} frames in {span:.1f} s); load average "
                 f"{os.getloadavg()[0]:.1f}; {caption}; {where}\n"))
            # the face drifts; the detector may miss it in an odd frame, not in most
            assert sum("1 face" in c for c in captions) >= 5, captions
            load = os.getloadavg()[0]
            slow = None
            if fps < MIN_FPS:
                slow = (f"only {fps:.1f} annotated frames/s arrived in the browser (need {MIN_FPS}); "
                        f"load average {load:.1f} on {os.cpu_count()} cores; {caption}")
                # other work saturating the CPU (e.g. a training run) is not the app's fault:
                # finish the other checks, then report it as an expected failure, loudly
                assert load > BUSY_LOAD * (os.cpu_count() or 1), slow
            _shot(page, "01-live")

            # capture + downloads
            page.fill("#capture-title textarea, #capture-title input", "Entrance camera")
            page.fill("#capture-exhibit textarea, #capture-exhibit input", "Hall A")
            page.click("#capture-button")
            page.wait_for_selector("#capture-summary:has-text('Saved as computation')")
            page.wait_for_selector("#capture-pdf", state="visible")
            with page.expect_download() as dl:
                page.click("#capture-pdf")
            pdf_file = tmp_path / dl.value.suggested_filename
            dl.value.save_as(pdf_file)
            assert pdf_file.name.startswith("emotion-1-entrance-camera") and pdf_file.suffix == ".pdf"
            text = "\n".join(pg.extract_text() for pg in PdfReader(pdf_file).pages)
            assert "Entrance camera" in text and "Webcam capture" in text and "alice" in text
            with page.expect_download() as dl:
                page.click("#capture-json")
            doc = json.loads(Path(dl.value.path()).read_text())
            assert doc["id"] == 1 and doc["kind"] == "webcam" and doc["user"] == "alice"
            assert doc["exhibit"] == "Hall A" and doc["faces_found"] == len(doc["result"]["faces"]) >= 1
            assert set(doc["result"]["faces"][0]["probabilities"]) == {
                "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
            _shot(page, "02-captured")
            stop = page.locator("#webcam button[aria-label='Stop camera']")
            assert stop.inner_text().strip() == "Stop camera"
            stop.click()
            page.locator("#webcam button[aria-label='Start camera']").wait_for()

            # upload: a file that is not an image gives a clear message, no traceback
            page.goto(url + "/app/?tab=upload")
            page.wait_for_selector("#upload-run")
            notes = tmp_path / "notes.jpg"
            notes.write_text("this is not a photo")
            page.set_input_files("#upload-photo input[type=file]", str(notes))
            page.fill("#upload-title textarea, #upload-title input", "Not a photo")
            page.wait_for_timeout(500)
            page.click("#upload-run")
            page.wait_for_selector("#upload-summary:has-text('cannot be analysed')")
            assert "Traceback" not in page.inner_text("body")
            _shot(page, "05-bad-file")
            # too large for the upload limit: refused before anything is analysed
            big = tmp_path / "big.jpg"
            big.write_bytes(b"\xff" * (3 * 1024 * 1024))
            page.goto(url + "/app/?tab=upload")
            page.wait_for_selector("#upload-run")
            page.set_input_files("#upload-photo input[type=file]", str(big))
            page.wait_for_selector("text=exceed the maximum allowed size")
            _shot(page, "06-too-large")
            page.goto(url + "/app/?tab=upload")
            page.wait_for_selector("#upload-run")
            page.set_input_files("#upload-photo input[type=file]", str(photo))
            page.fill("#upload-title textarea, #upload-title input", "Visitors")
            page.fill("#upload-exhibit textarea, #upload-exhibit input", "Room 3")
            page.check("#upload-consent input[type=checkbox]")
            page.wait_for_timeout(500)
            page.click("#upload-run")
            page.wait_for_selector("#upload-summary:has-text('Saved as computation #2')", timeout=60_000)
            assert "1 face found" in page.inner_text("#upload-summary")
            assert page.locator("#upload-table tbody tr").count() >= 1
            with page.expect_download() as dl:
                page.click("#upload-json")
            doc = json.loads(Path(dl.value.path()).read_text())
            assert doc["kind"] == "upload" and doc["title"] == "Visitors" and doc["consent"] is True
            assert dl.value.suggested_filename.startswith("emotion-2-visitors")
            _shot(page, "03-upload")

            # History lists both
            page.goto(url + "/history")
            body = page.inner_text("main")
            assert "Visitors" in body and "Entrance camera" in body
            _shot(page, "04-history")

            # log out from the app's header; the app is closed again
            page.goto(url + "/app/?tab=upload")
            page.wait_for_selector("#logout-button")
            page.click("#logout-button")
            page.wait_for_load_state()
            page.goto(url + "/app/")
            assert "/login" in page.url
            cookies = {c["name"]: c["value"] for c in context.cookies()}
            r = httpx.get(url + "/app/config", cookies=cookies)
            assert r.status_code == 401
            log.info("responses >= 400 seen by the browser: %s", failed)
            assert not blocked, blocked[:3]
        finally:
            browser.close()
    if slow:
        pytest.xfail("MACHINE BUSY, fps not representative: " + slow)
