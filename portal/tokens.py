"""Account > API tokens: personal access tokens for cameras and scripts (shown once)."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from db import tokens

from .forms import PostForm
from .museum_forms import TokenForm

log = logging.getLogger(__name__)
bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        created, row = tokens.create_token(current_user.id, name=form.name.data)
        log.info("personal access token created user_id=%d token_id=%d", current_user.id, row.id)
        form = TokenForm(formdata=None)
    status = 400 if form.errors else 200
    return render_template("tokens.html", form=form, created=created, revoke_form=PostForm(),
                           tokens=tokens.personal_tokens(current_user.id)), status


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    if not tokens.revoke_token(current_user.id, token_id):
        abort(404)
    log.info("personal access token revoked user_id=%d token_id=%d", current_user.id, token_id)
    flash("The token has been revoked; devices using it are refused from now on.", "info")
    return redirect(url_for("tokens.index"))
