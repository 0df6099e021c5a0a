"""The organisation's printable report and the comparisons saved for it (issue 20).

    POST /exhibits/<id>/comparisons                      save "before/after <split>" (form split)
    POST /organisations/<org>/comparisons/<id>/delete    forget a saved comparison
    GET  /organisations/<org>/report.pdf?from=&to=&measure=   the report (PDF)

Members of the organisation may download the report; owners and managers save and delete
comparisons (viewers 403); anyone else gets 404.  A bad date or measure goes back to the page
with the reason, never an error page.  The content is :mod:`portal.museum.report`.
"""
from __future__ import annotations

import datetime as _dt
import logging

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from db import comparisons as saved_db
from db import museum as museum
from portal.analyses.documents import content_disposition, slug
from portal.museum import exhibit_stats
from portal.museum import exports as exhibit_data
from portal.museum import roles
from portal.museum.report import organisation_report
from portal.museum.report_pdf import build_report_pdf
from portal.web.errors import render_error
from portal.web.lookup import own_exhibit, own_organisation
from portal.web.settings import museum_settings

log = logging.getLogger(__name__)
bp = Blueprint("museum_report", __name__)


def _may_edit(org_id: int):
    """None when the user may save comparisons, else the 403 page."""
    if roles.role_of(current_user.id, org_id) in roles.PERMISSIONS["edit"]:
        return None
    return render_error(403, roles.REFUSALS["edit"].capitalize() + ".")


@bp.post("/exhibits/<int:exhibit_id>/comparisons")
@login_required
def save(exhibit_id: int):
    exhibit = own_exhibit(exhibit_id)
    refused = _may_edit(exhibit.organisation_id)
    if refused:
        return refused
    try:
        day, _ = exhibit_stats.split_time(request.form.get("split"), museum_settings().tz)
    except ValueError as exc:
        flash(f"{exc}; nothing saved.", "error")
        return redirect(url_for("museum.dashboard", exhibit_id=exhibit.id))
    saved_db.save_comparison(exhibit, day, current_user.id)
    flash(f"Comparison before/after {day.isoformat()} saved for the organisation's report.", "success")
    return redirect(url_for("museum.dashboard", exhibit_id=exhibit.id, split=day.isoformat()))


@bp.post("/organisations/<int:org_id>/comparisons/<int:comparison_id>/delete")
@login_required
def delete(org_id: int, comparison_id: int):
    refused = _may_edit(own_organisation(org_id).id)
    if refused:
        return refused
    if not saved_db.delete_comparison(org_id, comparison_id):
        abort(404)
    flash("Saved comparison deleted.", "success")
    return redirect(url_for("museum.organisation", org_id=org_id))


@bp.app_context_processor
def _saved_comparisons():
    return {"saved_comparisons": saved_db.comparisons_of}


def _period(args) -> tuple[tuple, str]:
    bounds = exhibit_data.date_range(args.get("from"), args.get("to"),
                                     museum_settings().tz)
    start, end = args.get("from") or "the first recorded day", args.get("to") or "today"
    return bounds, ("all recorded days" if not (args.get("from") or args.get("to"))
                    else f"{start} to {end}")


@bp.get("/organisations/<int:org_id>/report.pdf")
@login_required
def report(org_id: int):
    org = own_organisation(org_id)
    settings = museum_settings()
    exhibits = museum.list_exhibits(current_user.id, org.id, include_archived=True)
    saved = [(c.exhibit, c.split) for c in saved_db.comparisons_of(org.id)]
    try:
        bounds, period = _period(request.args)
        content = organisation_report(org.name, exhibits, saved, settings,
                                      request.args.get("measure") or "happy", *bounds, period)
    except ValueError as exc:
        flash(f"{exc}; no report made.", "error")
        return redirect(url_for("museum.organisation", org_id=org.id))
    name = f"report-{slug(org.name) or org.id}-{_dt.date.today():%Y%m%d}.pdf"
    return Response(build_report_pdf(content), mimetype="application/pdf",
                    headers={"Content-Disposition": content_disposition(name)})
