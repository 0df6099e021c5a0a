"""``/visits`` (issue 21): opted-in visits.  A member starts one for a visitor (201 with the
code); the code alone then answers ``GET /visits/{code}/suggestions`` and ``DELETE
/visits/{code}`` (no token: the code is the visitor's credential).  Wrong, ended or expired codes
answer 404, and count towards ``VISIT_GUESS_LIMIT`` per client address (429 past it).  Codes
are never logged (the log line names the visit's id)."""
from __future__ import annotations

import datetime as _dt
import logging

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict

import db
from db.base import utcnow
from portal.accounts import tokens as access
from portal.api.context import ApiContext
from portal.api.deps import Ctx, CurrentGrant
from portal.api.museum import refusals
from portal.api.schemas import BodyId, declared
from portal.http import forwarded_client, proxy_networks
from portal.museum import visits
from portal.museum.guesses import Guesses  # noqa: F401 (build_api makes one)

log = logging.getLogger(__name__)
WRONG_CODES = "too many wrong visit codes from this address (VISIT_GUESS_LIMIT); Retry-After says when"
router = APIRouter(prefix="/visits", tags=["visits"], responses=declared(described={429: WRONG_CODES}))
NOT_FOUND = "visit not found (wrong code, ended or expired)"


def clock() -> _dt.datetime:
    """Now, naive UTC (tests replace it to move time on)."""
    return utcnow()


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation_id: BodyId


class VisitOut(BaseModel):
    code: str
    url: str
    expires_at: str


class Suggestion(BaseModel):
    exhibit_id: int
    name: str
    location: str
    score: float
    reason: str


class Suggestions(BaseModel):
    visited: list[int]
    suggestions: list[Suggestion]


def _address(request: Request, ctx: ApiContext) -> str:
    peer = request.client.host if request.client else "unknown"
    return forwarded_client(peer, request.headers.get("x-forwarded-for"), ctx.config.proxy_count,
                            proxy_networks(ctx.config.trusted_proxies))


def find_or_404(code: str, request: Request, ctx: ApiContext):
    """The live visit of ``code``; 429 for an address past VISIT_GUESS_LIMIT, else 404 (counted)."""
    guesses, address = ctx.visit_guesses, _address(request, ctx)
    wait = guesses.retry_after(address)
    if wait:
        raise HTTPException(429, f"too many wrong visit codes; try again in {wait} s",
                            headers={"Retry-After": str(wait)})
    try:
        return visits.find(code, clock())
    except visits.NotFound:
        guesses.wrong(address)
        raise HTTPException(404, NOT_FOUND) from None


def visit_for(code: str, exhibit, request: Request, ctx: ApiContext):
    """The visit a session at ``exhibit`` joins: 404 for a code of another organisation too."""
    visit = find_or_404(code, request, ctx)
    if visit.organisation_id != exhibit.organisation_id:
        ctx.visit_guesses.wrong(_address(request, ctx))
        raise HTTPException(404, NOT_FOUND)
    return visit


def link_session(visit, session) -> None:
    visits.join(visit, session)



@router.post("", status_code=201, response_model=VisitOut, summary="Start an opted-in visit")
def start(body: VisitIn, request: Request, grant: CurrentGrant,
          ctx: Ctx):
    """A visit code for a visitor of one of your organisations (owner or manager).  It expires at
    VISIT_ENDS local time (default: the end of the day) and is deleted with its readings.  A kiosk
    token starts visits for its own exhibit's organisation only (403 for any other)."""
    now = clock()
    expires = visits.day_end(now, ctx.museum.tz, ctx.config.visit_ends)
    with db.connection(), refusals():
        problem = access.organisation_refusal(grant, body.organisation_id)
        if problem:
            raise HTTPException(403, problem)
        visits.delete_expired(now)
        code, visit = visits.start(grant.user.id, body.organisation_id, expires)
    url = str(request.base_url).rstrip("/").rsplit("/api/v1", 1)[0] + f"/visit/{code}"
    return {"code": code, "url": url, "expires_at": db.iso(visit.expires_at)}


@router.get("/{code}/suggestions", response_model=Suggestions, summary="What to see next")
def suggestions(code: str, request: Request, ctx: Ctx):
    """The exhibits the visit has readings at, and at most three other exhibits of the same
    organisation, each with a score and a reason in words."""
    with db.connection():
        visit = find_or_404(code, request, ctx)
        return visits.what_next(visit, ctx.museum.min_visitors)


@router.delete("/{code}", status_code=204, summary="End the visit and delete its data")
def end(code: str, request: Request, ctx: Ctx):
    """Deletes the visit, the recording sessions started with its code and their observations."""
    with db.connection():
        visits.end(find_or_404(code, request, ctx))
    return Response(status_code=204)
