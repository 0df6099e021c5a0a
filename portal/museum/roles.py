"""Roles in an organisation and what each may do (issue 18).  Needs an open database connection.

    member = require(user_id, org_id, "manage_members")   # NotFound (404) / NotAllowed (403)
    exhibit = exhibit_for(user_id, exhibit_id, "edit")    # owner or manager of its organisation
    remove_member(owner_id, org_id, "bob")
    transfer_ownership(owner_id, org_id, "bob")          # alice becomes a manager

| role    | view dashboards | record, attach photos/videos | create, rename, archive exhibits | invite, remove, change roles, transfer |
|---------|-----------------|------------------------------|----------------------------------|----------------------------------------|
| owner   | yes             | yes                          | yes                              | yes                                    |
| manager | yes             | yes                          | yes                              | no                                     |
| viewer  | yes             | no                           | no                               | no                                     |

Any member but the owner may leave (remove themselves).  An organisation has exactly one owner.
"""
from __future__ import annotations

import logging

from db import museum
from db.museum import CONTRIBUTOR_ROLES, ROLES

log = logging.getLogger(__name__)

NotAllowed = museum.NotAllowed  # a member who may not do this: 403 with the message
MEMBER_ROLES = tuple(r for r in ROLES if r != "owner")  # what an invitation or a role change gives
PERMISSIONS = {"view": ROLES, "record": CONTRIBUTOR_ROLES, "edit": CONTRIBUTOR_ROLES,
               "invite": ("owner",), "manage_members": ("owner",)}
REFUSALS = {
    "record": "viewers cannot record or attach photos and videos; ask the organisation's owner "
              "to make you a manager",
    "edit": "viewers cannot create, rename or archive exhibits; ask the organisation's owner to "
            "make you a manager",
    "invite": "only the organisation's owner can invite",
    "manage_members": "only the organisation's owner can remove members, change roles or "
                      "transfer the ownership",
}


class NotFound(LookupError):
    """No such organisation, exhibit or member for this user (the channels answer 404)."""


def require(user_id: int, org_id, action: str):
    """The user's membership of the organisation if their role allows ``action`` (a key of
    :data:`PERMISSIONS`).  NotFound if they are not a member, NotAllowed if the role forbids."""
    member = museum.membership(user_id, org_id)
    if member is None:
        raise NotFound("organisation not found")
    if member.role not in PERMISSIONS[action]:
        raise NotAllowed(REFUSALS[action])
    return member


def exhibit_for(user_id: int, exhibit_id, action: str):
    """The exhibit if the user's role in its organisation allows ``action``."""
    exhibit = museum.get_exhibit(user_id, exhibit_id)
    if exhibit is None:
        raise NotFound("exhibit not found")
    require(user_id, exhibit.organisation_id, action)
    return exhibit


def role_of(user_id: int, org_id) -> str | None:
    member = museum.membership(user_id, org_id)
    return member.role if member is not None else None


def _member(org_id: int, username: str):
    target = museum.member_named(org_id, username)
    if target is None:
        raise NotFound(f"'{str(username)[:40]}' is not a member of this organisation")
    return target


def remove_member(actor_id: int, org_id, username: str) -> None:
    """The owner removes a member; any other member may remove themselves (leave).  The owner
    cannot be removed: transfer the ownership first."""
    actor = museum.membership(actor_id, org_id)
    if actor is None:
        raise NotFound("organisation not found")
    target = _member(actor.organisation_id, username)
    if target.role == "owner":
        raise NotAllowed("the owner cannot be removed; transfer the ownership to another "
                         "member first")
    if target.user_id != actor_id:
        require(actor_id, org_id, "manage_members")
    museum.remove_member(actor.organisation_id, target.user_id)
    log.info("membership ended organisation_id=%d user_id=%d by user_id=%d",
             actor.organisation_id, target.user_id, actor_id)


def set_role(actor_id: int, org_id, username: str, role: str) -> None:
    """The owner makes a member a manager or a viewer."""
    actor = require(actor_id, org_id, "manage_members")
    if role not in MEMBER_ROLES:
        raise ValueError(f"the role must be one of {', '.join(MEMBER_ROLES)} (to make someone "
                         "the owner, transfer the ownership)")
    target = _member(actor.organisation_id, username)
    if target.role == "owner":
        raise NotAllowed("the owner's role cannot be changed; transfer the ownership instead")
    museum.set_role(actor.organisation_id, target.user_id, role)
    log.info("role changed organisation_id=%d user_id=%d role=%s", actor.organisation_id,
             target.user_id, role)


def transfer_ownership(actor_id: int, org_id, username: str) -> None:
    """The owner hands the organisation to another member and stays as a manager."""
    actor = require(actor_id, org_id, "manage_members")
    target = _member(actor.organisation_id, username)
    if target.user_id == actor_id:
        raise ValueError("you already own this organisation; name another member")
    museum.transfer_ownership(actor.organisation_id, target.user_id)


def invite(actor_id: int, org_id, valid_for, role: str = "viewer"):
    """A single-use invitation code for a manager or a viewer (owner only)."""
    require(actor_id, org_id, "invite")
    if role not in MEMBER_ROLES:
        raise ValueError(f"an invitation is for one of {', '.join(MEMBER_ROLES)}, not '{str(role)[:20]}'")
    return museum.create_invitation(actor_id, org_id, valid_for, role=role)
