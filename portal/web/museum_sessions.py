"""Recorded sessions of an exhibit, on its dashboard (issue 11): start, duration, visitors,
faces (no images); their owner may stop a running one or delete one with its observations.
Members see everyone's sessions as numbers; another user's session answers 404 to stop/delete."""
from __future__ import annotations

import json
import logging

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_login import current_user, login_required

from db import observations
from portal.museum.recording import PAGE_ORIGINS, finish_session
from portal.web.lookup import own_exhibit
from portal.web.settings import museum_settings

log = logging.getLogger(__name__)
bp = Blueprint("museum_sessions", __name__)


def session_rows(exhibit_id: int) -> list[dict]:
    """What the dashboard's table shows, newest first."""
    recorder = current_app.extensions.get("recorder")
    # "recording": the live page's or a kiosk's (an API camera's session shows as open)
    running = recorder.running_ids(PAGE_ORIGINS) if recorder is not None else set()
    rows = []
    for sess in observations.exhibit_sessions(exhibit_id):
        summary = json.loads(sess.summary_json or "{}")
        rows.append({"id": sess.id, "started_at": sess.started_at, "owner": sess.owner.username,
                     "mine": sess.owner_id == current_user.id, "open": sess.stopped_at is None,
                     "recording": sess.id in running, "duration_s": summary.get("duration_s"),
                     "visitors": summary.get("visitors"), "faces": summary.get("faces")})
    return rows


def _own(exhibit_id: int, session_id: int):
    own_exhibit(exhibit_id)
    sess = observations.get_session(current_user.id, session_id)
    if sess is None or sess.exhibit_id != exhibit_id:
        abort(404)
    return sess


@bp.post("/exhibits/<int:exhibit_id>/sessions/<int:session_id>/stop")
@login_required
def stop(exhibit_id: int, session_id: int):
    sess = _own(exhibit_id, session_id)
    if sess.stopped_at is None:
        recorder = current_app.extensions.get("recorder")
        if recorder is None or recorder.stop(current_user.id, sess.id) is None:
            finish_session(sess, museum_settings().min_visitors)  # idle API camera or orphan
        flash(f"Session #{sess.id} stopped and summarised.", "success")
    return redirect(url_for("museum.dashboard", exhibit_id=exhibit_id) + "#sessions")


@bp.post("/exhibits/<int:exhibit_id>/sessions/<int:session_id>/delete")
@login_required
def delete(exhibit_id: int, session_id: int):
    sess = _own(exhibit_id, session_id)
    recorder = current_app.extensions.get("recorder")
    if recorder is not None:
        recorder.discard(current_user.id, sess.id)
    observations.delete_session(current_user.id, sess.id)
    flash(f"Session #{sess.id} and its observations have been deleted.", "success")
    return redirect(url_for("museum.dashboard", exhibit_id=exhibit_id) + "#sessions")
