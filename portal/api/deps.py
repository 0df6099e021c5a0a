"""What the API's routes depend on, as annotated types (the FastAPI full-stack template's ``deps.py``):

    def show(analysis: OwnAnalysis, user: CurrentUser): ...
    def stop(session_id: Id, user: CurrentUser, ctx: Ctx): ...

``CurrentUser``/``CurrentGrant``: who is asking (401 without a valid token, 403 for a token whose scope
does not allow the route); ``Ctx``: what the routes share; ``Jobs``: the job service (503 without one);
``Own*``: one of the asking user's objects, or 404 (the same answer for another user's and for none).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException

import db
from portal.accounts.tokens import Grant
from portal.api.auth import current_grant, current_user
from portal.api.context import ApiContext, get_ctx
from portal.api.schemas import Id
from portal.jobs.service import JobService

CurrentGrant = Annotated[Grant, Depends(current_grant)]
CurrentUser = Annotated[db.User, Depends(current_user)]
Ctx = Annotated[ApiContext, Depends(get_ctx)]


def job_service(ctx: Ctx) -> JobService:
    """The web app's job service; 503 when this API runs without one."""
    if ctx.jobs is None:
        raise HTTPException(503, "background jobs are not available on this server")
    return ctx.jobs


Jobs = Annotated[JobService, Depends(job_service)]


def own_analysis(analysis_id: Id, user: CurrentUser) -> db.Computation:
    """The asking user's analysis ``analysis_id``; 404 for anyone else's and for none."""
    with db.connection():
        comp = db.get_computation(user.id, analysis_id)
    if comp is None:
        raise HTTPException(404, "analysis not found")
    return comp


OwnAnalysis = Annotated[db.Computation, Depends(own_analysis)]
