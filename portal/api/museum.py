"""``/organisations``, ``/invitations`` and ``/exhibits``: a museum's team, its exhibits and
their visitor analytics (aggregates only).  Objects of organisations you are not a member of
answer 404."""
from __future__ import annotations

import contextlib
import datetime as _dt
from typing import Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

import db
from db import museum as museum
from portal.api.context import ApiContext
from portal.api.deps import Ctx, CurrentUser
from portal.api.schemas import (MAX_ID, Comparison, Exhibit, ExhibitIn, ExhibitPatch, Id, InvitationIn, InvitationOut,
                                Organisation, OrganisationIn, Ranking, Summary)
from portal.museum import exhibit_stats
from portal.museum import exports as exhibit_data
from portal.museum import roles

router = APIRouter(tags=["organisations and exhibits"])
ORG_NOT_FOUND = "organisation not found"
EXHIBIT_NOT_FOUND = "exhibit not found"



def organisation_out(org, user_id: int) -> dict:
    people = museum.members(org.id)
    role = next((r for u, r in people if u.id == user_id), "viewer")
    return {"id": org.id, "name": org.name, "owner_id": org.owner_id, "role": role,
            "members": [u.username for u, _ in people], "created_at": db.iso(org.created_at)}


@contextlib.contextmanager
def refusals():
    """The roles service's refusals as HTTP answers: 404 (not yours), 403 (your role), 422."""
    try:
        yield
    except roles.NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except roles.NotAllowed as exc:
        raise HTTPException(403, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


def exhibit_or_404(user: db.User, exhibit_id: int):
    exhibit = museum.get_exhibit(user.id, exhibit_id)
    if exhibit is None:
        raise HTTPException(404, EXHIBIT_NOT_FOUND)
    return exhibit


@router.post("/organisations", status_code=201, response_model=Organisation)
def create_organisation(body: OrganisationIn, user: CurrentUser):
    """Create an organisation (a museum); you become its owner."""
    if not body.name.strip():
        raise HTTPException(422, "the name must not be blank")
    with db.connection():
        return organisation_out(museum.create_organisation(user.id, body.name), user.id)


@router.get("/organisations", response_model=list[Organisation])
def list_organisations(user: CurrentUser):
    with db.connection():
        return [organisation_out(o, user.id) for o in museum.organisations_of(user.id)]


@router.get("/organisations/{organisation_id}", response_model=Organisation)
def show_organisation(organisation_id: Id, user: CurrentUser):
    with db.connection():
        org = museum.get_organisation(user.id, organisation_id)
        if org is None:
            raise HTTPException(404, ORG_NOT_FOUND)
        return organisation_out(org, user.id)


@router.post("/organisations/{organisation_id}/invitations", status_code=201,
             response_model=InvitationOut, responses={403: {"description": "not the owner"}})
def invite(*, organisation_id: Id, body: InvitationIn | None = None,
           user: CurrentUser, ctx: Ctx):
    """A single-use invitation code (owner only) for a ``manager`` or a ``viewer`` (the
    default), valid for a few days."""
    role = body.role if body is not None else "viewer"
    with db.connection(), refusals():
        inv = roles.invite(user.id, organisation_id,
                           _dt.timedelta(days=ctx.museum.invitation_days), role)
    return {"code": inv.code, "expires_at": db.iso(inv.expires_at), "url": f"/invitations/{inv.code}",
            "role": inv.role}


@router.post("/invitations/{code}/accept", response_model=Organisation)
def accept(code: str, user: CurrentUser):
    """Join the organisation the invitation is for."""
    with db.connection():
        org = museum.accept_invitation(user.id, code)
        if org is None:
            raise HTTPException(404, "invitation not found, already used or expired")
        return organisation_out(org, user.id)


@router.post("/exhibits", status_code=201, response_model=Exhibit)
def create_exhibit(body: ExhibitIn, user: CurrentUser):
    """A new exhibit (the organisation's owner or a manager)."""
    if not body.name.strip():
        raise HTTPException(422, "the name must not be blank")
    with db.connection(), refusals():
        roles.require(user.id, body.organisation_id, "edit")
        exhibit = museum.create_exhibit(user.id, body.organisation_id, body.name, body.location,
                                        body.description)
    return museum.exhibit_to_dict(exhibit)


@router.get("/exhibits", response_model=list[Exhibit])
def list_exhibits(*, organisation_id: int | None = Query(None, ge=1, le=MAX_ID),
                  include_archived: bool = False, user: CurrentUser):
    with db.connection():
        return [museum.exhibit_to_dict(e)
                for e in museum.list_exhibits(user.id, organisation_id, include_archived)]


@router.get("/exhibits/overview", response_model=list[Summary],
            summary="Exhibits side by side (one summary each)")
def overview(*, organisation_id: int | None = Query(None, ge=1, le=MAX_ID),
             start: str | None = Query(None, alias="from"), end: str | None = Query(None, alias="to"), user: CurrentUser,
             ctx: Ctx):
    bounds = _range(ctx, start, end)
    with db.connection():
        return [exhibit_data.exhibit_summary(e, ctx.museum, *bounds, bucket="day")
                for e in museum.list_exhibits(user.id, organisation_id)]


@router.get("/exhibits/{exhibit_id}", response_model=Exhibit)
def show_exhibit(exhibit_id: Id, user: CurrentUser):
    with db.connection():
        return museum.exhibit_to_dict(exhibit_or_404(user, exhibit_id))


@router.patch("/exhibits/{exhibit_id}", response_model=Exhibit)
def edit_exhibit(exhibit_id: Id, body: ExhibitPatch, user: CurrentUser):
    """Change name, location, description; ``{"archived": true}`` archives it (the
    organisation's owner or a manager)."""
    fields = body.model_dump(exclude_none=True)
    if "name" in fields and not fields["name"].strip():
        raise HTTPException(422, "the name must not be blank")
    with db.connection(), refusals():
        roles.exhibit_for(user.id, exhibit_id, "edit")
        exhibit = museum.update_exhibit(user.id, exhibit_id, **fields)
    return museum.exhibit_to_dict(exhibit)


def _range(ctx: ApiContext, start: str | None, end: str | None):
    try:
        return exhibit_data.date_range(start, end, ctx.museum.tz)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/exhibits/{exhibit_id}/summary", response_model=Summary)
def summary(*, exhibit_id: Id, start: str | None = Query(None, alias="from", description="YYYY-MM-DD"),
            end: str | None = Query(None, alias="to", description="YYYY-MM-DD (included)"),
            bucket: Literal["hour", "day"] = "hour", user: CurrentUser,
            ctx: Ctx):
    """Visitors, faces, dwell time, emotions, timeline and heatmap over local days from..to.
    Breakdowns over fewer than ANALYTICS_MIN_VISITORS visitors are hidden; the others carry
    noise of scale ``noise_scale`` (ANALYTICS_NOISE / visitors), so that no visitor can be
    isolated by comparing summaries (each visitor weighs the same)."""
    bounds = _range(ctx, start, end)
    with db.connection():
        return exhibit_data.exhibit_summary(exhibit_or_404(user, exhibit_id), ctx.museum,
                                            *bounds, bucket=bucket)


@router.get("/exhibits/{exhibit_id}/observations.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def observations_csv(*, exhibit_id: Id, start: str | None = Query(None, alias="from"),
                     end: str | None = Query(None, alias="to"),
                     user: CurrentUser, ctx: Ctx):
    """One row per face **you** recorded at the exhibit (your sessions, photos and videos; no
    images): other members' recordings are never exported row by row, only as the summary's
    noised aggregates.  Only the header row, and the header ``X-Analytics-Hidden``, when the
    visitors are too few."""
    bounds = _range(ctx, start, end)
    with db.connection():
        exhibit = exhibit_or_404(user, exhibit_id)
        text, hidden = exhibit_data.observations_csv(exhibit, ctx.museum, user.id, *bounds)
    headers = {"Content-Disposition": f'attachment; filename="exhibit-{exhibit.id}-observations.csv"'}
    if hidden:
        headers["X-Analytics-Hidden"] = "too few visitors to show"
    return Response(text, media_type="text/csv", headers=headers)


def _unprocessable(function, *args):
    """``function(*args)``; its ValueError (a bad date or measure) as a 422 with the reason."""
    try:
        return function(*args)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/exhibits/{exhibit_id}/compare", response_model=Comparison,
            summary="Before and after a date, with intervals and p-values")
def compare(*, exhibit_id: Id, split: str | None = Query(None, description="YYYY-MM-DD: the first "
                                                       "day of the 'after' period"),
            start: str | None = Query(None, alias="from"), end: str | None = Query(None, alias="to"),
            user: CurrentUser, ctx: Ctx):
    """The exhibit's summary before ``split`` and from it on (within from..to), and per measure
    the difference, its 95 % interval, a permutation test's p-value over visitors and words
    ("Happy: 31% -> 44%, a clear increase").  ``tests`` is null when either period has fewer
    than ANALYTICS_MIN_VISITORS visitors (docs/analytics.md)."""
    bounds = _range(ctx, start, end)
    with db.connection():
        exhibit = exhibit_or_404(user, exhibit_id)
        return _unprocessable(exhibit_stats.exhibit_comparison, exhibit, ctx.museum, split, *bounds)


@router.get("/organisations/{organisation_id}/ranking", response_model=Ranking,
            summary="Exhibits ranked by a measure, with intervals")
def ranking(*, organisation_id: Id, measure: str = Query("happy", description="an emotion, "
                                                      "attraction, dwell, expressive or uncertain"),
            start: str | None = Query(None, alias="from"), end: str | None = Query(None, alias="to"),
            user: CurrentUser, ctx: Ctx):
    """The organisation's exhibits from the highest ``measure`` down, each with its 95 %
    interval and whether it is clearly above the next (permutation tests over visitors,
    Holm-adjusted); ``notes`` say it in words.  Exhibits with too few visitors come last."""
    bounds = _range(ctx, start, end)
    with db.connection():
        if museum.get_organisation(user.id, organisation_id) is None:
            raise HTTPException(404, ORG_NOT_FOUND)
        out = _unprocessable(exhibit_stats.organisation_ranking,
                             museum.list_exhibits(user.id, organisation_id), ctx.museum, measure, *bounds)
    return {"organisation_id": organisation_id, **out}
