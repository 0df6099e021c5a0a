"""An organisation's members on its page (issue 18): the owner changes a member's role
(manager / viewer), removes a member or hands the ownership over; any other member may leave.
The rules are :mod:`portal.museum.roles`'; other organisations answer 404, a role that does not
allow it 403 with the reason."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from portal.museum import roles
from portal.web.errors import render_error
from portal.web.forms import PostForm
from portal.web.museum_forms import RoleForm

log = logging.getLogger(__name__)
bp = Blueprint("museum_members", __name__)


def _act(org_id: int, action, done: str, form=None):
    """Run ``action()`` after the CSRF check; refusals as 404/403 or a flashed message."""
    if not (form or PostForm()).validate_on_submit():
        abort(400)
    try:
        action()
    except roles.NotFound:
        abort(404)
    except roles.NotAllowed as exc:
        return render_error(403, str(exc).capitalize() + ".")
    except ValueError as exc:
        flash(str(exc).capitalize() + ".", "error")
        return redirect(url_for("museum.organisation", org_id=org_id) + "#members")
    flash(done, "success")
    if roles.role_of(current_user.id, org_id) is None:  # left
        return redirect(url_for("museum.organisations"))
    return redirect(url_for("museum.organisation", org_id=org_id) + "#members")


@bp.post("/organisations/<int:org_id>/members/<username>/remove")
@login_required
def remove(org_id: int, username: str):
    mine = username.lower() == current_user.username.lower()
    return _act(org_id, lambda: roles.remove_member(current_user.id, org_id, username),
                "You have left the organisation." if mine else f"{username} has been removed.")


@bp.post("/organisations/<int:org_id>/members/<username>/role")
@login_required
def role(org_id: int, username: str):
    form = RoleForm()
    return _act(org_id, lambda: roles.set_role(current_user.id, org_id, username, form.role.data),
                f"{username} is now a {form.role.data}.", form)


@bp.post("/organisations/<int:org_id>/transfer")
@login_required
def transfer(org_id: int):
    username = request.form.get("username", "")
    return _act(org_id, lambda: roles.transfer_ownership(current_user.id, org_id, username),
                f"{username} now owns the organisation; you are a manager.")
