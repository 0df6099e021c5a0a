"""The Gradio app mounted by ``run.py`` at ``/app``: Live webcam and Upload photo.

    blocks = build_blocks(config, flask_app)           # config: portal.config.Config
    gr.mount_gradio_app(app, blocks, "/app", auth_dependency=..., **mount_options(config))

Only logged-in portal users reach it (``run.py`` guards every ``/app`` route); inside the
handlers ``int(request.username)`` is the user's id. The work happens in
:mod:`.events`; this module is layout and wiring only.
"""
from __future__ import annotations

import base64
import html
import logging
import time
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np

import db
from portal.analyses.pdf import emotion_order
from portal.analyses.service import Analyses, AppError, stream_frame, warm_up
from portal.analyses.settings import AnalysisSettings
from portal.analyses.storage import downloads_dir
from portal.gradio_app import record
from portal.gradio_app.events import bars_help, capture, checked_upload, live_caption, run_upload, table_headers
from portal.gradio_app.header import header_html, logout_token, username_for
from portal.gradio_app.tempfiles import start_pruning, use_private_cache
from portal.gradio_app.webcam import WebcamImage
from realtime import ImageError, encode

log = logging.getLogger(__name__)

WEBCAM_CONCURRENCY_ID = "webcam"  # the webcam stream's concurrency slots (run.py counts them per user)
TABS = ("live", "upload")
PRIVACY_NOTE = (
    "**Privacy:** webcam frames are analysed in memory and then discarded. "
    "No frame is stored unless you press **Capture**; a captured frame and its result are "
    "saved to your History, where you can delete them. **Start recording at exhibit** stores only numbers per face "
    "(time, track, emotion probabilities) for an exhibit's analytics, never a frame.")

CSS = """
:root, .gradio-container { --ec-fg: #1d2433; --ec-muted: #5b6478; --ec-line: #d9deea; --ec-accent: #2f5fd0; }
.gradio-container { max-width: 1150px !important; margin: 0 auto !important; }
.portal-header { display: flex; align-items: center; justify-content: space-between; flex-wrap: wrap;
  gap: .5rem 1.5rem; padding: .6rem .2rem; border-bottom: 1px solid var(--ec-line); margin-bottom: .4rem; }
.portal-header .brand { display: inline-flex; align-items: center; gap: .5rem; font-weight: 700;
  font-size: 1.15rem; color: var(--ec-fg); text-decoration: none; }
.portal-nav { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; align-items: center;
  gap: .25rem 1.1rem; }
.portal-nav li { margin: 0; }
.portal-nav a, .portal-nav .link-button { text-decoration: none; color: var(--ec-fg); background: none;
  border: 0; font: inherit; padding: .3rem .1rem; cursor: pointer; }
.portal-nav a:hover, .portal-nav .link-button:hover { color: var(--ec-accent); }
.portal-nav .who { color: var(--ec-muted); }
.portal-nav form.inline { display: inline; margin: 0; }
#live-view { min-height: 300px; }
.live-figure { margin: 0; }
.live-figure img { width: 100%; height: auto; border-radius: 8px; display: block; background: #111; }
.live-figure figcaption { color: var(--ec-muted); font-size: .92rem; margin-top: .35rem; }
.live-placeholder { border: 2px dashed var(--ec-line); border-radius: 8px; padding: 3rem 1rem;
  text-align: center; color: var(--ec-muted); }
.privacy-note { border-left: 4px solid var(--ec-accent); background: #e8eefc; padding: .2rem .9rem;
  border-radius: 6px; }
footer { display: none !important; }
"""

# Gradio's webcam streaming sends each frame as canvas.toDataURL("image/jpeg") at the
# browser's default quality (0.92: ~180 KB for 640x480). 0.75 looks the same to the face
# detector and is ~3x smaller to encode, upload and decode. Only that exact call changes.
FAVICON = Path(__file__).resolve().parents[1] / "web" / "static" / "favicon.svg"
HEAD = """<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<script src="/static/webcam-labels.js" defer></script>
<script>
(() => {
  const orig = HTMLCanvasElement.prototype.toDataURL;
  HTMLCanvasElement.prototype.toDataURL = function (type, quality) {
    if (type === "image/jpeg" && quality === undefined) return orig.call(this, type, %s);
    return orig.apply(this, arguments);
  };
})();
</script>"""

LIVE_PLACEHOLDER = ('<div class="live-placeholder">Start the webcam on the left (allow the browser '
                    'to use it); annotated frames appear here.</div>')


def mount_options(settings: AnalysisSettings | None = None, data_dir: Path | None = None) -> dict:
    """Extra keyword arguments for ``gr.mount_gradio_app`` (look, limits, no API footer).
    ``data_dir``: the portal's; its downloads folder is where result files come from."""
    settings = settings or AnalysisSettings()
    return dict(
        allowed_paths=[str(downloads_dir(data_dir).resolve())] if data_dir is not None else [],
        css=CSS,
        theme=gr.themes.Default(primary_hue="blue", font=["system-ui", "Segoe UI", "Roboto", "Arial",
                                                           "sans-serif"],
                                font_mono=["ui-monospace", "monospace"]),
        footer_links=[],
        favicon_path=str(FAVICON),
        run_history=False,
        max_file_size=settings.max_upload_bytes,
        show_error=False,
        head=HEAD % settings.webcam_jpeg_quality,
    )


def frame_html(annotated: np.ndarray, caption: str, quality: int = 80) -> str:
    """The annotated frame as an inline JPEG (nothing written to disk) with a caption."""
    try:
        data = base64.b64encode(encode(annotated, ".jpg", quality)).decode("ascii")
    except RuntimeError:
        return LIVE_PLACEHOLDER
    return (f'<figure class="live-figure"><img id="live-frame" alt="Annotated webcam frame" '
            f'src="data:image/jpeg;base64,{data}"><figcaption id="live-caption">'
            f'{html.escape(caption)}</figcaption></figure>')


def _user_id(request: gr.Request | None) -> int:
    try:
        return int(request.username)  # set by the portal's auth dependency
    except (AttributeError, TypeError, ValueError):
        raise AppError("You are not logged in. Please log in to the portal again.") from None


def build_blocks(config, flask_app=None, settings: AnalysisSettings | None = None,
                 recorder=None) -> gr.Blocks:
    """The Blocks app. ``config`` is the portal's Config (its data_dir holds the images);
    ``settings`` the app's own (default: :class:`AnalysisSettings` defaults); ``recorder`` the
    :class:`portal.museum.recording.Recorder` (run.py's: the portal's one, shared with the kiosk and
    the API; default: the Flask app's)."""
    settings = settings or AnalysisSettings()
    cache = use_private_cache(config.data_dir)  # before any component: they read it when made
    start_pruning(cache, settings.cache_prune_every_s, settings.cache_max_age_s)
    ctx = Analyses(data_dir=Path(config.data_dir), settings=settings, upload_dir=cache)
    if settings.warm_up:
        warm_up(ctx)
    handlers = Handlers(ctx, flask_app, recorder or record.make_recorder(ctx, flask_app))
    # delete_cache: Gradio also empties its cache at shut-down (tempfiles prunes it meanwhile)
    # live frames never reach it.
    with gr.Blocks(title="Live webcam and photo analysis · Emotion Classifier",
                   analytics_enabled=False, delete_cache=(900, 3600)) as demo:
        header = gr.HTML(header_html("", None), js_on_load=None, elem_id="portal-header")
        with gr.Tabs(selected="live") as tabs:
            with gr.Tab("Live webcam", id="live", elem_id="tab-live"):
                live = _live_tab(settings)
                rec = live.record
            with gr.Tab("Upload photo", id="upload", elem_id="tab-upload"):
                upload = _upload_tab(settings)
        demo.load(handlers.on_load, None, [header, tabs], api_visibility="private", queue=False)
        demo.load(handlers.on_load_record, None, [rec.exhibit, upload.attach, rec.state, rec.status],
                  api_visibility="private", queue=False)
        _wire_live(handlers, live, rec, settings)
        _wire_upload(handlers, upload)
    # Gradio accepts only files uploaded through it as event inputs once the Blocks counts as
    # launched; mount_gradio_app never marks it so (issue 9: server paths as inputs)
    demo.has_launched = True
    return demo


class Handlers:
    """The Gradio event handlers: unpack the request, call :mod:`.events`, turn the outcome
    (or the user's error) into component updates."""

    def __init__(self, ctx: Analyses, flask_app=None, recorder=None):
        self.ctx, self.flask_app = ctx, flask_app
        self.record = record.RecordHandlers(recorder)

    def on_load(self, request: gr.Request):
        try:
            user_id = _user_id(request)
        except AppError:
            return header_html("", None), gr.Tabs(selected="live")
        token = logout_token(self.flask_app, dict(request.cookies)) if self.flask_app is not None else None
        tab = (request.query_params.get("tab") or "live") if request else "live"
        tab = tab if tab in TABS else "live"
        return header_html(username_for(user_id), token), gr.Tabs(selected=tab)

    def on_frame(self, frame, live, recording, request: gr.Request):
        t0 = time.perf_counter()
        try:
            annotated, live = stream_frame(self.ctx, live, frame, _user_id(request))
            if annotated is not None and recording:
                self.record.feed(_user_id(request), recording, live)
        except AppError as exc:  # shown in place of the frames (a toast per frame would flood)
            return f'<div class="live-placeholder" role="alert">⚠️ {html.escape(str(exc))}</div>', live
        except ImageError as exc:
            log.warning("unusable webcam frame: %s", exc)
            return gr.skip(), live
        except Exception:  # keep the stream alive; the next frame may well work
            log.exception("webcam frame failed")
            return gr.skip(), live
        if annotated is None:
            return gr.skip(), live
        out = frame_html(annotated, live_caption(live), self.ctx.settings.live_jpeg_quality)
        live.note_work((time.perf_counter() - t0) * 1000.0)
        if live.frames % 300 == 0:
            log.info("live stream user_id=%s frames=%d %.1f frames/s, server %.0f ms per frame",
                     request.username if request else "?", live.frames, live.fps, live.work_ms)
        return out, live

    def on_load_record(self, request: gr.Request):
        try:
            return self.record.on_load(_user_id(request))
        except AppError:
            return gr.skip(), gr.skip(), None, record.IDLE

    def on_record(self, exhibit_id, recording, request: gr.Request):
        try:
            return self.record.on_start(_user_id(request), exhibit_id, recording)
        except AppError as exc:
            gr.Warning(str(exc))
            return recording, gr.skip()

    def on_record_tick(self, recording, request: gr.Request):
        try:
            status = self.record.on_tick(_user_id(request), recording)
        except AppError:
            status = None
        return gr.skip() if status is None else status

    def on_record_stop(self, recording, request: gr.Request):
        try:
            return self.record.on_stop(_user_id(request), recording)
        except AppError as exc:
            gr.Warning(str(exc))
            return None, record.IDLE

    def on_stop(self, live, request: gr.Request):
        if live is not None and live.owner == _user_id(request):
            self.ctx.streams.release(live.owner, id(live))
            live.reset()
        return LIVE_PLACEHOLDER, live

    def on_capture(self, live, title, exhibit, notes, consent, request: gr.Request):
        hidden = gr.DownloadButton(visible=False)
        try:
            out = capture(self.ctx, _user_id(request), live, title, exhibit, notes, consent)
        except AppError as exc:
            gr.Warning(str(exc))
            return f"⚠️ {exc}", gr.skip(), hidden, hidden
        except Exception:
            log.exception("capture failed")
            gr.Warning("Something went wrong while saving the frame; it has been logged.")
            return "⚠️ The frame could not be saved.", gr.skip(), hidden, hidden
        return (out.summary, gr.Image(value=str(out.image_path), visible=True),
                gr.DownloadButton(value=str(out.pdf_path), visible=True),
                gr.DownloadButton(value=str(out.json_path), visible=True))

    def on_upload(self, file, title, exhibit, notes, consent, attach, request: gr.Request):
        hidden = gr.DownloadButton(visible=False)
        try:
            user_id = _user_id(request)
            out = run_upload(self.ctx, user_id, checked_upload(self.ctx, file), title, exhibit, notes,
                             consent)
            if attach not in (None, ""):
                try:
                    out.summary += "\n\n" + record.attach_upload(user_id, out.computation["id"], attach)
                except AppError as exc:
                    gr.Warning(str(exc))
                    out.summary += f"\n\n⚠️ {exc}"
        except AppError as exc:
            gr.Warning(str(exc))
            return None, gr.Dataframe(value=None), f"⚠️ {exc}", hidden, hidden
        except Exception:
            log.exception("upload failed")
            gr.Warning("Something went wrong while analysing the photo; it has been logged.")
            return (None, gr.Dataframe(value=None), "⚠️ The photo could not be analysed.",
                    hidden, hidden)
        faces = (out.computation.get("result") or {}).get("faces") or []
        return (str(out.image_path), gr.Dataframe(value=out.rows, headers=table_headers(emotion_order(faces))), out.summary,
                gr.DownloadButton(value=str(out.pdf_path), visible=True),
                gr.DownloadButton(value=str(out.json_path), visible=True))


def _live_tab(settings: AnalysisSettings) -> SimpleNamespace:
    """The live webcam tab's components (inside ``gr.Tab``)."""
    c = SimpleNamespace(state=gr.State(None))
    gr.Markdown(PRIVACY_NOTE, elem_classes=["privacy-note"], elem_id="privacy-note")
    gr.Markdown(bars_help(settings), elem_classes=["bars-help"], elem_id="live-bars-help")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=280):
            c.webcam = WebcamImage.limited(
                max_bytes=settings.max_frame_bytes, max_pixels=settings.max_frame_pixels,
                sources=["webcam"], streaming=True, type="numpy", label="Your webcam",
                elem_id="webcam", buttons=[],
                webcam_options=gr.WebcamOptions(mirror=True, constraints={
                    "video": {"width": {"ideal": 640}, "height": {"ideal": 480}}}),
            )
        with gr.Column(scale=3, min_width=320):
            c.view = gr.HTML(LIVE_PLACEHOLDER, js_on_load=None, elem_id="live-view", label="Analysed frames")
    c.record = record.controls()
    gr.Markdown("### Capture this frame")
    with gr.Row():
        c.title = gr.Textbox(label="Title (optional)", max_length=db.TEXT_LIMITS["title"], elem_id="capture-title")
        c.exhibit = gr.Textbox(label="Exhibit / location (optional)", max_length=db.TEXT_LIMITS["exhibit"],
                               elem_id="capture-exhibit")
    with gr.Row():
        c.notes = gr.Textbox(label="Notes (optional)", lines=2, max_length=db.TEXT_LIMITS["notes"],
                             elem_id="capture-notes")
        c.consent = gr.Checkbox(label="The people pictured agreed to be recorded", elem_id="capture-consent")
    c.button = gr.Button("Capture", variant="primary", elem_id="capture-button")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            c.image = gr.Image(label="Captured frame", interactive=False, format="jpeg",
                               buttons=["download", "fullscreen"], elem_id="captured-image", height=300,
                               visible=False)
        with gr.Column(scale=3):
            c.summary = gr.Markdown(elem_id="capture-summary")
            with gr.Row():
                c.pdf = gr.DownloadButton("Download PDF", visible=False, elem_id="capture-pdf")
                c.json = gr.DownloadButton("Download JSON", visible=False, elem_id="capture-json")
    return c


def _upload_tab(settings: AnalysisSettings) -> SimpleNamespace:
    """The photo upload tab's components (inside ``gr.Tab``)."""
    c = SimpleNamespace()
    gr.Markdown(f"Upload a photo (JPEG, PNG, WebP or BMP, up to {settings.max_upload_mb:.0f} MB). Every face "
                f"is found, its expression classified, and the result saved to your History.")
    gr.Markdown(bars_help(settings), elem_classes=["bars-help"], elem_id="upload-bars-help")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            c.photo = gr.File(label="Photo", type="filepath", elem_id="upload-photo")
            c.title = gr.Textbox(label="Title", max_length=db.TEXT_LIMITS["title"], elem_id="upload-title",
                                 placeholder="e.g. Visitors at the entrance")
            c.exhibit = gr.Textbox(label="Exhibit / location (optional)", max_length=db.TEXT_LIMITS["exhibit"],
                                   elem_id="upload-exhibit")
            c.notes = gr.Textbox(label="Notes (optional)", lines=3, max_length=db.TEXT_LIMITS["notes"],
                                 elem_id="upload-notes")
            c.consent = gr.Checkbox(label="The people pictured agreed to be photographed and analysed",
                                    elem_id="upload-consent")
            c.attach = record.exhibit_dropdown("upload-attach")
            c.button = gr.Button("Run", variant="primary", elem_id="upload-run")
        with gr.Column(scale=3, min_width=320):
            c.image = gr.Image(label="Annotated photo", interactive=False, format="jpeg",
                               elem_id="upload-result", buttons=["download", "fullscreen"])
            c.summary = gr.Markdown(elem_id="upload-summary")
            with gr.Row():
                c.pdf = gr.DownloadButton("Download PDF", visible=False, elem_id="upload-pdf")
                c.json = gr.DownloadButton("Download JSON", visible=False, elem_id="upload-json")
    c.table = gr.Dataframe(headers=table_headers([]), label="Faces and probabilities", interactive=False,
                           elem_id="upload-table", wrap=True)
    return c


def _wire_live(handlers: Handlers, c: SimpleNamespace, rec: SimpleNamespace,
               settings: AnalysisSettings) -> None:
    # an open webcam stream holds one of the stream's concurrency slots while it is open (also
    # idle): max_streams for all users together; each user's share is checked when a stream
    # joins the queue (.stream_quota, by this concurrency id) and per frame (portal.analyses.service.stream_frame)
    c.webcam.stream(handlers.on_frame, [c.webcam, c.state, rec.state], [c.view, c.state],
                    stream_every=settings.stream_every, time_limit=settings.stream_time_limit,
                    concurrency_limit=settings.max_streams, concurrency_id=WEBCAM_CONCURRENCY_ID,
                    api_visibility="private", show_progress="hidden")
    c.webcam.clear(handlers.on_stop, [c.state], [c.view, c.state], api_visibility="private")
    c.button.click(handlers.on_capture, [c.state, c.title, c.exhibit, c.notes, c.consent],
                   [c.summary, c.image, c.pdf, c.json], api_visibility="private", concurrency_limit=2)
    rec.start.click(handlers.on_record, [rec.exhibit, rec.state], [rec.state, rec.status],
                    api_visibility="private", concurrency_limit=2)
    rec.stop.click(handlers.on_record_stop, [rec.state], [rec.state, rec.status],
                   api_visibility="private", concurrency_limit=2)
    rec.timer.tick(handlers.on_record_tick, [rec.state], [rec.status], api_visibility="private",
                   show_progress="hidden", queue=False)


def _wire_upload(handlers: Handlers, c: SimpleNamespace) -> None:
    c.button.click(handlers.on_upload, [c.photo, c.title, c.exhibit, c.notes, c.consent, c.attach],
                   [c.image, c.table, c.summary, c.pdf, c.json], api_visibility="private",
                   concurrency_limit=2)
