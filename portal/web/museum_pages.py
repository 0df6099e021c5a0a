"""Museum pages (issue 11): organisations and invitations, exhibits, the exhibit dashboard
(server-side charts, exports) and the printable visitor notice.  Members see aggregates only;
other organisations' objects answer 404; what a member's role forbids answers 403 with the
reason (:mod:`portal.museum.roles`; the members page: :mod:`portal.web.museum_members`)."""
from __future__ import annotations

import datetime as _dt
import json
import logging

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

import db
from db import museum as museum
from db import observations as obs
from portal.museum import analytics, charts, curator
from portal.museum import dashboard as museum_curator
from portal.museum import exports as exhibit_data
from portal.museum import roles
from portal.museum.notice import NoticeFacts, build_notice
from portal.web import museum_sessions
from portal.web.errors import render_error
from portal.web.forms import PostForm
from portal.web.lookup import own_exhibit, own_organisation
from portal.web.museum_forms import ExhibitForm, InviteForm, OrganisationForm
from portal.web.settings import museum_settings

log = logging.getLogger(__name__)
bp = Blueprint("museum", __name__)


def _role(org_id: int) -> str | None:
    return roles.role_of(current_user.id, org_id)


@bp.route("/organisations", methods=["GET", "POST"])
@login_required
def organisations():
    form = OrganisationForm()
    if form.validate_on_submit():
        org = museum.create_organisation(current_user.id, form.name.data)
        flash(f"Organisation “{org.name}” created. Add its exhibits and invite colleagues.", "success")
        return redirect(url_for("museum.organisation", org_id=org.id))
    return render_template("museum/organisations.html", form=form,
                           organisations=museum.organisations_of(current_user.id)), \
        400 if form.errors else 200


@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
@login_required
def organisation(org_id: int):
    """Members, invitations, exhibits side by side (overview) and a new-exhibit form."""
    org = own_organisation(org_id)
    form = ExhibitForm()
    role = _role(org.id)
    if form.is_submitted() and role not in roles.PERMISSIONS["edit"]:
        return render_error(403, roles.REFUSALS["edit"].capitalize() + ".")
    if form.validate_on_submit():
        exhibit = museum.create_exhibit(current_user.id, org.id, form.name.data,
                                        form.location.data or "", form.description.data or "")
        flash(f"Exhibit “{exhibit.name}” created.", "success")
        return redirect(url_for("museum.dashboard", exhibit_id=exhibit.id))
    settings = museum_settings()
    exhibits = museum.list_exhibits(current_user.id, org.id, include_archived=True)
    overview = {e.id: exhibit_data.exhibit_summary(e, settings, bucket="day") for e in exhibits}
    ranking, problem = museum_curator.page_ranking(exhibits, settings, request.args, overview)
    if problem:
        flash(problem, "error")
    return render_template("museum/organisation.html", org=org, form=form, exhibits=exhibits,
                           ranking=ranking, measures=curator.MEASURES,
                           overview=overview, members=museum.members(org.id), role=role,
                           post_form=PostForm(), invite_form=InviteForm(),
                           invitation=request.args.get("invited")), 400 if form.errors else 200


@bp.post("/organisations/<int:org_id>/invite")
@login_required
def invite(org_id: int):
    """A single-use invitation link for a manager or a viewer (the owner only)."""
    own_organisation(org_id)
    form = InviteForm()
    role = form.role.data if form.validate_on_submit() else "viewer"
    try:
        inv = roles.invite(current_user.id, org_id, _dt.timedelta(days=museum_settings().invitation_days),
                           role)
    except roles.NotAllowed as exc:
        return render_error(403, str(exc).capitalize() + ".")
    return redirect(url_for("museum.organisation", org_id=org_id, invited=inv.code))


@bp.route("/invitations/<code>", methods=["GET", "POST"])
@login_required
def accept(code: str):
    inv = museum.get_invitation(code)
    if inv is None:
        abort(404)
    if request.method == "POST":
        org = museum.accept_invitation(current_user.id, code)
        if org is None:
            abort(404)
        flash(f"You are now a member of “{org.name}”.", "success")
        return redirect(url_for("museum.organisation", org_id=org.id))
    return render_template("museum/accept.html", org=inv.organisation, invitation=inv,
                           form=PostForm())


@bp.app_context_processor
def _attach_choices():
    def museum_attach(comp):
        """(the exhibit ``comp`` is attached to or None, the user's exhibits to choose from)."""
        attached = obs.attached_exhibit(comp.id)
        return attached, [] if attached else museum.list_exhibits(
            current_user.id, roles=roles.PERMISSIONS["record"])
    return {"museum_attach": museum_attach}


@bp.post("/history/<int:comp_id>/attach")
@login_required
def attach(comp_id: int):
    """Attach one of your photos/captures to an exhibit: its faces count as visitors there
    (the organisation sees numbers, never the photo)."""
    comp = db.get_computation(current_user.id, comp_id)
    if comp is None:
        abort(404)
    exhibit = obs.attach_computation(current_user.id, comp, request.form.get("exhibit_id"))
    if exhibit is None:
        abort(404)
    flash(f"Attached to “{exhibit.name}”: its {comp.faces_found} face(s) now count there.", "success")
    return redirect(url_for("history.detail", comp_id=comp.id))


@bp.route("/exhibits/<int:exhibit_id>/edit", methods=["GET", "POST"])
@login_required
def edit(exhibit_id: int):
    exhibit = own_exhibit(exhibit_id)
    if _role(exhibit.organisation_id) not in roles.PERMISSIONS["edit"]:
        return render_error(403, roles.REFUSALS["edit"].capitalize() + ".")
    form = ExhibitForm(obj=exhibit)
    if form.validate_on_submit():
        museum.update_exhibit(current_user.id, exhibit.id, name=form.name.data,
                              location=form.location.data or "",
                              description=form.description.data or "")
        flash("The exhibit has been saved.", "success")
        return redirect(url_for("museum.dashboard", exhibit_id=exhibit.id))
    return render_template("museum/edit.html", exhibit=exhibit, form=form,
                           post_form=PostForm()), 400 if form.errors else 200


@bp.post("/exhibits/<int:exhibit_id>/archive")
@login_required
def archive(exhibit_id: int):
    exhibit = own_exhibit(exhibit_id)
    if _role(exhibit.organisation_id) not in roles.PERMISSIONS["edit"]:
        return render_error(403, roles.REFUSALS["edit"].capitalize() + ".")
    museum.update_exhibit(current_user.id, exhibit.id, archived=not exhibit.archived)
    flash("The exhibit has been " + ("restored." if exhibit.archived else
                                     "archived: its data stay, new recordings are refused."), "info")
    return redirect(url_for("museum.organisation", org_id=exhibit.organisation_id))


def _summary(exhibit, page: bool = False):
    """The summary for the request's from/to/bucket.  A bad value: 400, or on the dashboard
    (``page``) a message and the whole period."""
    bucket = request.args.get("bucket", "hour")
    try:
        if bucket not in ("hour", "day"):
            raise ValueError("'bucket' must be 'hour' or 'day'")
        bounds = exhibit_data.date_range(request.args.get("from"), request.args.get("to"),
                                         museum_settings().tz)
    except ValueError as exc:
        if not page:
            abort(400)
        flash(f"{exc}; showing the whole period instead.", "error")
        bucket, bounds = "hour", (None, None)
    return exhibit_data.exhibit_summary(exhibit, museum_settings(), *bounds, bucket=bucket), bounds


@bp.get("/exhibits/<int:exhibit_id>")
@login_required
def dashboard(exhibit_id: int):
    exhibit = own_exhibit(exhibit_id)
    summary, bounds = _summary(exhibit, page=True)
    query = {k: v for k, v in request.args.items() if k in ("from", "to", "bucket") and v}
    comparison, problem = museum_curator.page_comparison(exhibit, museum_settings(), request.args)
    if problem:
        flash(problem, "error")
    return render_template("museum/dashboard.html", exhibit=exhibit, summary=summary, query=query,
                           comparison=comparison, split=request.args.get("split", ""),
                           definitions=museum_curator.page_definitions(museum_settings()),
                           charts=charts.CHARTS, org=exhibit.organisation,
                           role=_role(exhibit.organisation_id),
                           sessions=museum_sessions.session_rows(exhibit.id), post_form=PostForm(),
                           own_rows_hidden=_own_rows_hidden(exhibit, bounds))


def _own_rows_hidden(exhibit, bounds) -> bool:
    """True when the user's own observation rows are too few to export (the CSV is only a header)."""
    rows = obs.observation_rows(exhibit.id, *bounds, owner_id=current_user.id)
    return analytics.visitor_count(rows) < museum_settings().min_visitors


@bp.app_template_filter("estimate")
def _estimate(entry, measure: str = "share") -> str:
    """A value and its interval: '31% (24–39%)'."""
    return curator.format_estimate(entry, measure)


@bp.app_template_filter("change")
def _change(test, measure: str = "share") -> str:
    """A difference and its interval: '+13 points (+5 to +21)'."""
    return curator.format_change(test, measure)


@bp.get("/exhibits/<int:exhibit_id>/chart/<name>.svg")
@login_required
def chart(exhibit_id: int, name: str):
    if name not in charts.CHARTS:
        abort(404)
    summary, _ = _summary(own_exhibit(exhibit_id))
    body = charts.render(summary, name) if summary["visitors"] else _no_visitors_svg()
    return Response(body, mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, no-store"})


def _no_visitors_svg() -> bytes:
    """An empty period's chart: words, not an empty plot (the heatmap's scale ran from -0.1 to 0.1)."""
    return (b'<svg xmlns="http://www.w3.org/2000/svg" width="750" height="80" role="img">'
            b'<text x="20" y="45" font-family="sans-serif" font-size="18" fill="#555">'
            b'No visitors yet in this period</text></svg>')


def _attachment(body: str, mimetype: str, name: str, **headers) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"', **headers})


@bp.get("/exhibits/<int:exhibit_id>/export.<any(json, csv):fmt>")
@login_required
def export(exhibit_id: int, fmt: str):
    """The aggregates (what the dashboard shows)."""
    exhibit = own_exhibit(exhibit_id)
    summary, _ = _summary(exhibit)
    if fmt == "json":
        return _attachment(json.dumps(summary, indent=2), "application/json",
                           f"exhibit-{exhibit.id}-summary.json")
    return _attachment(exhibit_data.aggregates_csv(summary), "text/csv",
                       f"exhibit-{exhibit.id}-summary.csv")


@bp.get("/exhibits/<int:exhibit_id>/observations.csv")
@login_required
def observations(exhibit_id: int):
    exhibit = own_exhibit(exhibit_id)
    _, bounds = _summary(exhibit)
    text, hidden = exhibit_data.observations_csv(exhibit, museum_settings(), current_user.id, *bounds)
    extra = {"X-Analytics-Hidden": "too few visitors to show"} if hidden else {}
    return _attachment(text, "text/csv", f"exhibit-{exhibit.id}-observations.csv", **extra)


def notice_facts(app) -> NoticeFacts:
    """What this installation keeps, read from the app's settings, for the visitor notice."""
    portal = app.config.get("PORTAL")
    return NoticeFacts(retention_days=app.config["MUSEUM"].retention_days, videos="jobs" in app.extensions,
                       visits="kiosk_visit" in app.blueprints,
                       visit_ends=getattr(portal, "visit_ends", "00:00") or "00:00")


@bp.get("/exhibits/<int:exhibit_id>/notice.pdf")
@login_required
def notice(exhibit_id: int):
    exhibit = own_exhibit(exhibit_id)
    org = exhibit.organisation
    pdf = build_notice(exhibit.name, exhibit.location, org.name, org.owner.email,
                       facts=notice_facts(current_app))  # what this installation keeps
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="visitor-notice-exhibit-{exhibit.id}.pdf"'})
