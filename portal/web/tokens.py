"""Account > API tokens: personal access tokens for cameras, kiosks and scripts (shown once).
Creating one re-checks the password (wrong ones count towards ``PASSWORD_CHECK_LIMIT``) and
gives it a scope: read, full or kiosk (one exhibit): :mod:`portal.accounts.tokens`."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from db import museum, tokens
from portal.accounts import tokens as access
from portal.museum import roles
from portal.web.forms import PostForm
from portal.web.museum_forms import TokenForm

log = logging.getLogger(__name__)
bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


def _form(**kwargs) -> TokenForm:
    form = TokenForm(**kwargs)
    exhibits = museum.list_exhibits(current_user.id, roles=roles.PERMISSIONS["record"])
    form.exhibit_id.choices = [SelectChoice("0", "—")] + [
        SelectChoice(str(e.id), f"{e.name} ({e.organisation.name})") for e in exhibits]
    return form


def _create(form: TokenForm) -> str | None:
    """The new token, or None with the reason added to the form's errors."""
    try:
        created, _ = access.create_personal(current_user.row, form.password.data, form.name.data,
                                            form.scope.data, form.exhibit_id.data or None)
    except access.WrongPassword as exc:
        g.auth_failed = True  # counted by the password re-check limit
        form.password.errors.append(str(exc))
    except (access.TokenRefused, roles.NotAllowed, roles.NotFound) as exc:
        form.scope.errors.append(str(exc)[0].upper() + str(exc)[1:])
    else:
        return created
    return None


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    form = _form()
    created = _create(form) if form.validate_on_submit() else None
    if created:
        form = _form(formdata=None)
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
