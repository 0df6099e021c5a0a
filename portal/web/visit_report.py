"""The organisation's page of opted-in visits (issue 21): how many visits saw suggestions and how
often the next exhibit visited was one of them, against a random baseline
(:mod:`portal.museum.followed`).  Any member may read it; other organisations answer 404."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from portal.museum import followed, roles
from portal.web.lookup import own_organisation

log = logging.getLogger(__name__)
bp = Blueprint("visit_report", __name__)


@bp.get("/organisations/<int:org_id>/visits")
@login_required
def report(org_id: int):
    org = own_organisation(org_id)
    try:
        data = followed.followed(current_user.id, org.id)
    except roles.NotFound:
        abort(404)
    return render_template("museum/visit_report.html", org=org, r=data)
