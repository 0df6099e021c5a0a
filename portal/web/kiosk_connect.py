"""A kiosk tablet signs in with a kiosk token instead of a member's login (issue 18).

    GET/POST /kiosk/<exhibit_id>/connect   paste a kiosk token made for this exhibit

The browser's session then holds only that token's id and exhibit: the kiosk page of that
exhibit works (``signed_in``), every other page of the portal treats the browser as anonymous,
so whoever reaches the tablet gets nothing but the kiosk.  Revoking the token (or its owner's
password change, or the owner losing the right to record there) ends it at the next frame.
"""
from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, session, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired

from db import museum
from portal.accounts import tokens as access

log = logging.getLogger(__name__)
bp = Blueprint("kiosk_connect", __name__)
SESSION_KEY = "kiosk_token"


class ConnectForm(FlaskForm):
    token = PasswordField("Kiosk token (Account > API tokens, scope kiosk, this exhibit)",
                          validators=[DataRequired("Paste the kiosk token.")])


def signed_in(exhibit_id) -> int | None:
    """The user a kiosk token connected on this browser records for at ``exhibit_id``."""
    held = session.get(SESSION_KEY) or {}
    if held.get("exhibit_id") != exhibit_id:
        return None
    grant = access.kiosk_grant_by_id(held.get("token_id"), exhibit_id)
    if grant is None or museum.recordable_exhibit(grant.user.id, exhibit_id) is None:
        session.pop(SESSION_KEY, None)
        return None
    return grant.user.id


@bp.route("/kiosk/<int:exhibit_id>/connect", methods=["GET", "POST"])
def connect(exhibit_id: int):
    form = ConnectForm()
    if form.validate_on_submit():
        try:
            grant = access.kiosk_grant(form.token.data, exhibit_id)
        except access.TokenRefused as exc:
            form.token.errors.append(str(exc))
        else:
            session.clear()  # no member's login stays on a kiosk
            session[SESSION_KEY] = {"token_id": grant.token_id, "exhibit_id": exhibit_id}
            session.permanent = True
            log.info("kiosk connected exhibit_id=%d token_id=%d", exhibit_id, grant.token_id)
            return redirect(url_for("kiosk.page", exhibit_id=exhibit_id))
    return render_template("kiosk_connect.html", form=form, exhibit_id=exhibit_id), \
        400 if form.errors else 200
