"""Record on the live page and "attach to an exhibit" on the upload tab (issue 11).

The recording itself is :class:`portal.museum.recording.Recorder`'s (the portal's one, shared with
the kiosk and the API's cameras); this module holds the Gradio controls and handlers.  The
browser keeps only the session id; every handler checks it against the logged-in user
(``request.username``), and on page load the user's running live recording is picked up again
(a reloaded tab can still Stop it).
"""
from __future__ import annotations

import logging
from types import SimpleNamespace

import gradio as gr

import db
from db import museum as museum_api
from db import observations
from db.museum import CONTRIBUTOR_ROLES
from portal.analyses.service import Analyses, AppError
from portal.museum.recording import Recorder, TooMany, frame_faces
from portal.museum.settings import MuseumSettings

log = logging.getLogger(__name__)

START_LABEL = "Start recording at exhibit"  # the museum recording; the webcam has its own start/stop
STOP_LABEL = "Stop recording at exhibit"
IDLE = f"Not recording. Choose an exhibit, press **{START_LABEL}**, then start the webcam: each analysed " \
       "frame's faces are stored as anonymous numbers (no image)."


def make_recorder(ctx: Analyses, flask_app=None) -> Recorder:
    """The process's recorder: the portal's (``flask_app.extensions["recorder"]``, built by its
    app factory); without a portal (tests), one of this app's own."""
    recorder = flask_app.extensions.get("recorder") if flask_app is not None else None
    if recorder is not None:
        return recorder
    museum = flask_app.config.get("MUSEUM") if flask_app is not None else None
    return Recorder.from_settings(museum or MuseumSettings(), ctx)


def exhibit_choices(user_id: int) -> list[tuple[str, int]]:
    """(label, id) of the non-archived exhibits the user may record at (owner or manager of
    their organisation; a viewer records nowhere)."""
    with db.connection():
        return [(f"{e.organisation.name} · {e.name}" + (f" ({e.location})" if e.location else ""),
                 e.id) for e in museum_api.list_exhibits(user_id, roles=CONTRIBUTOR_ROLES)]


def summary_markdown(summary: dict) -> str:
    if not summary:
        return "The recording had already been stopped or deleted."
    text = (f"**Recording saved:** {summary['duration_s']:.0f} s, {summary['visitors']} "
            f"visitor(s), {summary['faces']} face observation(s)")
    if summary.get("hidden"):
        return text + f"; emotions: {summary['hidden']}."
    shown = {**(summary.get("emotions") or {}), "uncertain": summary.get("uncertain_share") or 0.0}
    shares = ", ".join(f"{e} {100 * s:.0f}%" for e, s in sorted(shown.items(), key=lambda kv: -kv[1]) if s > 0)
    dwell = summary.get("dwell_s_median")
    return text + (f"; median dwell {dwell:.1f} s" if dwell is not None else "") + \
        (f"; emotions: {shares}." if shares else ".")


def attach_upload(user_id: int, comp_id: int, exhibit_id) -> str:
    """Attach a just-recorded upload to the user's exhibit; a line for the summary."""
    with db.connection():
        comp = db.get_computation(user_id, comp_id)
        exhibit = observations.attach_computation(user_id, comp, exhibit_id) if comp else None
    if exhibit is None:
        raise AppError("The photo was saved, but it could not be attached to that exhibit "
                       "(archived, or not one of your organisations'); attach it from History.")
    return f"Attached to the exhibit **{exhibit.name}**: its faces count there (numbers only)."


def controls() -> SimpleNamespace:
    """The Record row of the live tab."""
    c = SimpleNamespace(state=gr.State(None))
    gr.Markdown("### Record visitors at an exhibit")
    with gr.Row(equal_height=True):
        c.exhibit = gr.Dropdown(label="Exhibit", choices=[], value=None, elem_id="record-exhibit",
                                scale=3, info="Exhibits of your organisations (not archived)")
        c.start = gr.Button(START_LABEL, variant="primary", elem_id="record-start", scale=1)
        c.stop = gr.Button(STOP_LABEL, variant="stop", elem_id="record-stop", scale=1)
    c.status = gr.Markdown(IDLE, elem_id="record-status")
    c.timer = gr.Timer(5.0)  # refreshes the counts while recording
    return c


def exhibit_dropdown(elem_id: str) -> gr.Dropdown:
    return gr.Dropdown(label="Attach to exhibit (optional)", choices=[], value=None,
                       elem_id=elem_id, info="Shares only the numbers with its organisation")


class RecordHandlers:
    def __init__(self, recorder: Recorder):
        self.recorder = recorder

    def _status(self, rec) -> str:
        return (f"● **Recording** at **{rec.exhibit_name}** (session #{rec.id}): "
                f"{rec.frames} frame(s), {rec.faces} face observation(s) so far. "
                f"Press **{STOP_LABEL}** to save the summary.")

    def on_load(self, user_id: int):
        """Dropdown choices (live and upload), and the user's running live recording."""
        choices = exhibit_choices(user_id)
        running = self.recorder.running(user_id, "live")
        rec = running[0] if running else None
        return (gr.Dropdown(choices=choices, value=rec.exhibit_id if rec else None),
                gr.Dropdown(choices=choices, value=None),
                rec.id if rec else None, self._status(rec) if rec else IDLE)

    def on_start(self, user_id: int, exhibit_id, session_id):
        if self.recorder.get(user_id, session_id) is not None:
            raise AppError("A recording is already running: stop it first.")
        if exhibit_id in (None, ""):
            raise AppError("Choose an exhibit to record at first.")
        try:
            rec = self.recorder.start(user_id, exhibit_id, origin="live")
        except TooMany as exc:
            raise AppError(str(exc).capitalize() + ".") from exc
        if rec is None:
            raise AppError("That exhibit is not available (archived, not one of your "
                           "organisations', or you are a viewer there).")
        return rec.id, self._status(rec) + " Start the webcam if it is not running."

    def on_tick(self, user_id: int, session_id):
        """The running recording's counts (None: nothing to refresh)."""
        rec = self.recorder.get(user_id, session_id) if session_id else None
        return self._status(rec) if rec is not None else None

    def on_stop(self, user_id: int, session_id):
        summary = self.recorder.stop(user_id, session_id)
        if summary is None:
            raise AppError("Nothing is being recorded.")
        return None, summary_markdown(summary)

    def feed(self, user_id: int, session_id, live) -> None:
        """After each analysed webcam frame: its faces go to the user's running recording."""
        rec = self.recorder.get(user_id, session_id) if session_id else None
        if rec is None or live is None or live.analysis is None:
            return
        self.recorder.add(rec, frame_faces(live.analysis), stream_key=id(live.stream))
