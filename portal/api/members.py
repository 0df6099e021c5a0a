"""``/organisations/{id}/members`` and ``/organisations/{id}/transfer``: who belongs to an
organisation and with which role (owner / manager / viewer, :mod:`portal.museum.roles`).
Members list; the owner changes roles, removes members and hands the ownership over; any
other member may remove themselves (leave).  Other organisations answer 404."""
from __future__ import annotations

from fastapi import APIRouter

import db
from db import museum as museum
from portal.api.deps import CurrentUser
from portal.api.museum import organisation_out, refusals
from portal.api.schemas import Id, Member, Organisation, RoleIn, TransferIn
from portal.museum import roles

router = APIRouter(prefix="/organisations/{organisation_id}", tags=["organisations and exhibits"])
FORBIDDEN = {403: {"description": "your role does not allow it (the message says which does)"}}



def _members(org_id: int) -> list[dict]:
    return [{"username": m.user.username, "role": m.role, "joined_at": db.iso(m.joined_at)}
            for m in museum.memberships(org_id)]


@router.get("/members", response_model=list[Member])
def members(organisation_id: Id, user: CurrentUser):
    with db.connection(), refusals():
        member = roles.require(user.id, organisation_id, "view")
        return _members(member.organisation_id)


@router.patch("/members/{username}", response_model=Member, responses=FORBIDDEN)
def set_role(organisation_id: Id, username: str, body: RoleIn,
             user: CurrentUser):
    """Make a member a ``manager`` or a ``viewer`` (owner only)."""
    with db.connection(), refusals():
        roles.set_role(user.id, organisation_id, username, body.role)
        return next(m for m in _members(organisation_id) if m["username"].lower() == username.lower())


@router.delete("/members/{username}", status_code=204, responses=FORBIDDEN)
def remove(organisation_id: Id, username: str, user: CurrentUser) -> None:
    """Remove a member (owner only), or leave (your own name).  Their recordings stay in the
    exhibits' numbers; they lose access at once, tokens included."""
    with db.connection(), refusals():
        roles.remove_member(user.id, organisation_id, username)


@router.post("/transfer", response_model=Organisation, responses=FORBIDDEN)
def transfer(organisation_id: Id, body: TransferIn, user: CurrentUser):
    """Hand the organisation to another member (owner only); you stay as a manager."""
    with db.connection(), refusals():
        roles.transfer_ownership(user.id, organisation_id, body.username)
        return organisation_out(museum.get_organisation(user.id, organisation_id), user.id)
