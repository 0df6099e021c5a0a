"""Kiosk mode (issue 11): an unattended full-screen page at an exhibit that records visitors.

    GET  /kiosk/<exhibit_id>         the page: the visitor notice, a small camera preview, status
    POST /kiosk/<exhibit_id>/frames  one camera frame (multipart ``image``, form ``session_id``)
    POST /kiosk/<exhibit_id>/stop    close the page's session (sent when the page is closed)

The page's script (static/kiosk.js) takes a frame from the camera every half second and posts
it; the frame is analysed in memory with the recording's tracker and only per-face numbers are
stored (:class:`portal.museum.recording.Recorder`, shared with the live page's Record and the
API's cameras).  A session rolls over every ``rollover_s``; an unknown or closed ``session_id``
starts a new one, so a restarted page or server just carries on.  Only the exhibit
organisation's owner and managers may use it (viewers 403), logged in or through a kiosk token
connected on the browser (:mod:`portal.web.kiosk_connect`): anonymous requests get 401 (page
navigations go to the login page), other exhibits 404.
"""
from __future__ import annotations

import logging
import math

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from db import museum
from portal.museum import roles, visits
from portal.museum.frame_gate import ServerBusy
from portal.museum.notice import notice_text
from portal.museum.recording import TooMany, frame_faces
from portal.web import kiosk_connect
from portal.web.errors import render_error
from portal.web.museum_pages import notice_facts
from portal.web.settings import museum_settings
from realtime import ImageError, ImageTooLargeError

log = logging.getLogger(__name__)
bp = Blueprint("kiosk", __name__)
FRAME_INTERVAL_MS = 500


def _fail(status: int, detail: str, retry_after: float | None = None):
    headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after else {}
    return jsonify(detail=detail), status, headers


def _exhibit(exhibit_id: int):
    """The member's non-archived exhibit; 404 for anything else, 403 for a viewer (who may not
    record: :mod:`portal.museum.roles`)."""
    exhibit = museum.get_exhibit(g.kiosk_user, exhibit_id)
    if exhibit is None or exhibit.archived:
        abort(404)
    if museum.recordable_exhibit(g.kiosk_user, exhibit.id) is None:
        raise roles.NotAllowed(roles.REFUSALS["record"])
    return exhibit


@bp.errorhandler(roles.NotAllowed)
def _not_allowed(exc):
    """A viewer at the kiosk: 403 with the reason (a page for the page, JSON for its script)."""
    message = str(exc)[0].upper() + str(exc)[1:] + "."
    return render_error(403, message) if request.method == "GET" else _fail(403, message)


@bp.before_request
def _require_user():
    """Who is asking first (401), then the CSRF token (the blueprint is exempt from the global
    check, which would answer an anonymous POST with 400).  ``g.kiosk_user``: the logged-in
    member, or the one whose kiosk token this browser connected with for this exhibit."""
    g.kiosk_user = current_user.id if current_user.is_authenticated else \
        kiosk_connect.signed_in((request.view_args or {}).get("exhibit_id"))
    if g.kiosk_user is not None:
        if request.method == "POST":
            current_app.extensions["csrf"].protect()
        return None
    if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return _fail(401, "Not authenticated: log in to the portal first, or connect this kiosk "
                      "with a kiosk token (/kiosk/<exhibit>/connect).")


@bp.get("/kiosk/<int:exhibit_id>")
def page(exhibit_id: int):
    exhibit = _exhibit(exhibit_id)
    org = exhibit.organisation
    notice = notice_text(exhibit.name, exhibit.location, org.name, org.owner.email,
                         facts=notice_facts(current_app))
    return render_template("kiosk.html", exhibit=exhibit, org=org, notice=notice,
                           interval_ms=FRAME_INTERVAL_MS, max_pixels=current_app.extensions["frames"].max_pixels,
                           available="recorder" in current_app.extensions, kept=visits.KEPT,
                           idle_s=museum_settings().kiosk_idle_s)


def _recording(recorder, exhibit, session_id):
    """The page's running recording, or a new one (after a restart, a sweep or a rollover)."""
    rec = recorder.get(g.kiosk_user, session_id)
    if rec is None or rec.origin != "kiosk" or rec.exhibit_id != exhibit.id \
            or recorder.close_idle(rec):  # frames stopped for KIOSK_IDLE_S: that session ended
        return recorder.start(g.kiosk_user, exhibit.id, origin="kiosk")
    return recorder.rollover(rec)


@bp.post("/kiosk/<int:exhibit_id>/frames")
def frames(exhibit_id: int):
    exhibit = _exhibit(exhibit_id)
    recorder = current_app.extensions.get("recorder")
    if recorder is None:
        return _fail(503, "Recording is not available on this server (no real-time app).")
    upload = request.files.get("image")
    if upload is None:
        return _fail(400, "Send the camera frame as the multipart field 'image'.")
    data, gate = upload.read(), current_app.extensions["frames"]
    try:
        gate.check(data)  # FRAME_MAX_PIXELS, from the header: nothing decoded yet
        rec = _recording(recorder, exhibit, request.form.get("session_id"))
    except ImageError as exc:
        return _image_refused(exc)
    except TooMany as exc:
        return _fail(429, str(exc).capitalize() + ".")
    if rec is None:  # archived meanwhile
        abort(404)
    return _analyse(recorder, gate, rec, data)


def _image_refused(exc: ImageError):
    if isinstance(exc, ImageTooLargeError):
        return _fail(413, f"The frame is too large: {exc}.")
    return _fail(415, f"The frame cannot be read: {exc}; send a JPEG or PNG.")


def _analyse(recorder, gate, rec, data: bytes):
    """The frame-rate check first (API_MAX_FPS on average, in bursts of a few frames: the API
    sessions' token bucket), then the frame decoded and tracked in one of the gate's slots (503
    with Retry-After when the server already analyses FRAME_ANALYSES frames)."""
    try:
        with rec.lock:  # one frame of a recording at a time, in order
            wait = recorder.admit(rec)
            if wait:
                return _fail(429, f"Too many frames for one kiosk: {rec.bucket.describe()}; slow down.",
                             retry_after=wait)
            with gate.slot():
                decoded = gate.decode(data)
                if rec.stream is None:
                    rec.stream = recorder.make_stream()
                analysis = rec.stream.process(decoded)
            faces = frame_faces(analysis)
            t = recorder.add(rec, faces, stream_key=id(rec.stream))
    except ImageError as exc:
        return _image_refused(exc)
    except ServerBusy as exc:
        return _fail(503, str(exc).capitalize() + ".", retry_after=exc.retry_after)
    return jsonify(session_id=rec.id, t=t, faces=len(faces), frames=rec.frames,
                   observations=rec.faces, emotions=[f["emotion"] for f in faces])


@bp.post("/kiosk/<int:exhibit_id>/stop")
def stop(exhibit_id: int):
    _exhibit(exhibit_id)
    recorder = current_app.extensions.get("recorder")
    rec = recorder.get(g.kiosk_user, request.form.get("session_id")) if recorder else None
    if rec is None or rec.exhibit_id != exhibit_id:
        return _fail(404, "No kiosk recording with that id is running.")
    return jsonify(recorder.stop(g.kiosk_user, rec.id))
