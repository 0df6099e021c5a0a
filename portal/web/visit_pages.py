"""The visitor's phone page of an opted-in visit (issue 21): the code's URL, no login.

    GET  /visit/<code>       what the visit has seen, three suggestions with their reasons,
                             what is kept, and "End my visit and delete its data"
    POST /visit/<code>/end   (CSRF) deletes the visit, its sessions and observations at once

The code is the only credential: a wrong, ended or expired one answers a friendly 404 and counts
towards ``VISIT_GUESS_LIMIT`` per client address (the counter the API shares); past it every
code answers 429.  Codes are never logged (:func:`portal.museum.visits.hide_code`).
"""
from __future__ import annotations

import datetime as _dt
import logging

from flask import Blueprint, current_app, render_template, url_for

from db.base import utcnow
from portal.museum import qr, visits
from portal.web.errors import render_error
from portal.web.ratelimit import client_ip
from portal.web.settings import museum_settings

log = logging.getLogger(__name__)
bp = Blueprint("visit", __name__)
NOT_FOUND = ("There is no visit with this code: it may be mistyped, ended or expired (codes "
             "expire at the end of the day). Ask at any kiosk for a new one.")


class VisitRefused(Exception):
    def __init__(self, status: int, message: str, retry_after: int = 0):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


def clock() -> _dt.datetime:
    """Now, naive UTC (tests replace it to move time on)."""
    return utcnow()


def live_visit(code: str):
    """The live visit of ``code``, else VisitRefused: 429 past the guess limit, 404 (counted)."""
    guesses, address = current_app.extensions["visit_guesses"], client_ip()
    wait = guesses.retry_after(address)
    if wait:
        raise VisitRefused(429, f"Too many wrong visit codes from here: try again in {wait} s.", wait)
    try:
        return visits.find(code, clock())
    except visits.NotFound:
        guesses.wrong(address)
        raise VisitRefused(404, NOT_FOUND) from None


def end_visit(visit) -> None:
    """Delete the visit now; a kiosk still recording for it forgets that recording first."""
    recorder = current_app.extensions.get("recorder")
    for user_id, session_id in visits.recordings(visit) if recorder else ():
        recorder.discard(user_id, session_id)
    visits.end(visit)


def shown(code: str) -> str:
    text = visits.normalise(code) or ""
    return "-".join(text[i:i + visits.GROUP] for i in range(0, len(text), visits.GROUP))


def local_time(value: _dt.datetime) -> str:
    tz = museum_settings().tz
    text = value.replace(tzinfo=_dt.timezone.utc).astimezone(tz).strftime("%H:%M")
    return "midnight" if text == "00:00" else text  # "valid until 00:00 today" read as already over


def _private(response, status: int = 200):
    """No cache, no search engine: the page's address is the visitor's credential."""
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
    return response, status, headers


@bp.errorhandler(VisitRefused)
def _refused(exc: VisitRefused):
    body, status = render_error(exc.status, str(exc))
    _, _, headers = _private(body)
    if exc.retry_after:
        headers["Retry-After"] = str(exc.retry_after)
    return body, status, headers


@bp.get("/visit/<code>")
def page(code: str):
    visit = live_visit(code)
    data = visits.overview(visit, museum_settings().min_visitors)
    url = url_for("visit.page", code=shown(code), _external=True)
    return _private(render_template("visit.html", code=shown(code), kept=visits.KEPT, url=url,
                                    qr=qr.png_data_uri(url), ends=local_time(data["expires_at"]), **data))


@bp.post("/visit/<code>/end")
def end(code: str):
    end_visit(live_visit(code))
    return _private(render_template("visit_ended.html"))
