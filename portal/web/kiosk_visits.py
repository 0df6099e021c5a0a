"""The kiosk's side of an opted-in visit (issue 21), for the kiosk page's script (JSON).

    POST /kiosk/<exhibit_id>/visit        "Personalise my visit": a new code for the exhibit's
                                          organisation -> {code, url, qr (PNG data URI), ends}
    POST /kiosk/<exhibit_id>/visit/join   "I have a code" (form ``code``, ``session_id``): the
                                          kiosk's recording starts again as a session of the visit
    POST /kiosk/<exhibit_id>/visit/next   (form ``code``) "What next" -> {visited, suggestions, ends}
    POST /kiosk/<exhibit_id>/visit/end    (form ``code``) deletes the visit and its data at once

Who may use them is who may use the kiosk (:mod:`portal.web.kiosk`: a member who records there, or
a kiosk token connected for this exhibit), so a kiosk only ever starts visits for its own
exhibit's organisation, and a code of another organisation is unknown here (404, counted as a
wrong guess).  Codes travel in POST bodies only and are never logged.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, jsonify, request, url_for

from portal.museum import qr, visits
from portal.museum.recording import TooMany
from portal.museum.roles import NotAllowed
from portal.web import kiosk
from portal.web.ratelimit import client_ip
from portal.web.settings import museum_settings, portal_config
from portal.web.visit_pages import NOT_FOUND, VisitRefused, clock, end_visit, live_visit, local_time

log = logging.getLogger(__name__)
bp = Blueprint("kiosk_visit", __name__)
bp.before_request(kiosk._require_user)  # 401 first, then the CSRF token


@bp.errorhandler(VisitRefused)
def _refused(exc: VisitRefused):
    return kiosk._fail(exc.status, str(exc), exc.retry_after or None)


@bp.errorhandler(NotAllowed)
def _not_allowed(exc):
    return kiosk._fail(403, str(exc).capitalize() + ".")


def _visit(exhibit):
    """The live visit of the posted code, of this exhibit's organisation only."""
    visit = live_visit(request.form.get("code", ""))
    if visit.organisation_id != exhibit.organisation_id:
        current_app.extensions["visit_guesses"].wrong(client_ip())
        raise VisitRefused(404, NOT_FOUND)
    return visit


@bp.post("/kiosk/<int:exhibit_id>/visit")
def start(exhibit_id: int):
    exhibit = kiosk._exhibit(exhibit_id)
    now, museum = clock(), museum_settings()
    visits.delete_expired(now)
    expires = visits.day_end(now, museum.tz, portal_config().visit_ends)
    code, visit = visits.start(g.kiosk_user, exhibit.organisation_id, expires)
    url = url_for("visit.page", code=code, _external=True)
    return jsonify(code=code, url=url, qr=qr.png_data_uri(url), ends=local_time(visit.expires_at)), 201


@bp.post("/kiosk/<int:exhibit_id>/visit/join")
def join(exhibit_id: int):
    """The kiosk's running recording is closed and a new one, linked to the visit, started: the
    faces the kiosk reads from now on count for the visit (until the page drops it)."""
    exhibit = kiosk._exhibit(exhibit_id)
    visit = _visit(exhibit)
    recorder = current_app.extensions.get("recorder")
    if recorder is None:
        return kiosk._fail(503, "Recording is not available on this server (no real-time app).")
    old = recorder.get(g.kiosk_user, request.form.get("session_id"))
    if old is not None and old.origin == "kiosk" and old.exhibit_id == exhibit.id:
        recorder.stop(g.kiosk_user, old.id)
    try:
        rec = recorder.start(g.kiosk_user, exhibit.id, origin="kiosk")
    except TooMany as exc:
        return kiosk._fail(429, str(exc).capitalize() + ".")
    if rec is None:  # archived meanwhile
        return kiosk._fail(404, "This exhibit no longer records.")
    visits.join(visit, rec.session)
    log.info("kiosk session joined a visit visit_id=%d session_id=%d", visit.id, rec.id)
    return jsonify(session_id=rec.id, ends=local_time(visit.expires_at))


@bp.post("/kiosk/<int:exhibit_id>/visit/next")
def what_next(exhibit_id: int):
    visit = _visit(kiosk._exhibit(exhibit_id))
    data = visits.overview(visit, museum_settings().min_visitors)
    return jsonify(visited=data["visited"], suggestions=data["suggestions"],
                   ends=local_time(data["expires_at"]))


@bp.post("/kiosk/<int:exhibit_id>/visit/end")
def end(exhibit_id: int):
    end_visit(_visit(kiosk._exhibit(exhibit_id)))
    return jsonify(ended=True)
