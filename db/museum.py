"""Museums (issue 11): organisations, their members and invitations, and exhibits.  Scoped: every
getter takes the asking user's id and returns None for objects of organisations the user is not a
member of (the web layers answer 404).  Needs an open connection.

Created by migration 3 (:mod:`db.migrations.v3_museum`, a frozen snapshot); the classes here
describe the current schema.
"""
from __future__ import annotations

import datetime as _dt
import logging
import secrets

import peewee as pw

from db.base import BaseModel, database, iso, utcnow, valid_id
from db.users import User

ROLES = ("owner", "manager", "viewer")  # migration 6; before it: "owner", "member"
CONTRIBUTOR_ROLES = ("owner", "manager")  # may add data to an exhibit (record, attach)


class Organisation(BaseModel):
    name = pw.CharField(max_length=200)
    owner = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "organisations"


class Membership(BaseModel):
    organisation = pw.ForeignKeyField(Organisation, backref="memberships", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
    role = pw.CharField(max_length=16, default="viewer")  # one of ROLES
    joined_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "memberships"
        indexes = ((("organisation", "user"), True),)


class Invitation(BaseModel):
    organisation = pw.ForeignKeyField(Organisation, on_delete="CASCADE", index=True)
    code = pw.CharField(max_length=64, unique=True)
    created_by = pw.ForeignKeyField(User, on_delete="CASCADE")
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    accepted_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    accepted_at = pw.DateTimeField(null=True)
    role = pw.CharField(max_length=16, default="viewer")  # the invitee's role (migration 6)

    class Meta:
        table_name = "invitations"


class Exhibit(BaseModel):
    organisation = pw.ForeignKeyField(Organisation, on_delete="CASCADE", index=True)
    name = pw.CharField(max_length=200)
    location = pw.CharField(max_length=200, default="")
    description = pw.TextField(default="")
    archived = pw.BooleanField(default=False)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "exhibits"


MODELS = [Organisation, Membership, Invitation, Exhibit]

log = logging.getLogger(__name__)

EXHIBIT_FIELDS = ("name", "location", "description", "archived")


class NotAllowed(PermissionError):
    """The user is a member but may not do this (e.g. only the owner invites)."""


# ------------------------------------------------------------ organisations
def create_organisation(owner_id: int, name: str) -> Organisation:
    """A new organisation; its creator becomes the owner (and a member)."""
    with database.atomic():
        org = Organisation.create(name=name.strip()[:200], owner=owner_id)
        Membership.create(organisation=org, user=owner_id, role="owner")
    log.info("organisation created organisation_id=%d owner_id=%d", org.id, owner_id)
    return org


def membership(user_id: int, org_id) -> Membership | None:
    return Membership.get_or_none((Membership.user == user_id) &
                                  (Membership.organisation == valid_id(org_id)))


def member_named(org_id: int, username: str) -> Membership | None:
    """The organisation's membership of the user called ``username`` (any case), else None."""
    if not isinstance(username, str) or not 1 <= len(username) <= 40:
        return None
    return (Membership.select(Membership, User).join(User)
            .where((Membership.organisation == org_id)
                   & (pw.fn.LOWER(User.username) == username.lower())).first())


def set_role(org_id: int, user_id: int, role: str) -> bool:
    """Make a member a "manager" or a "viewer" (never the owner: see :func:`transfer_ownership`)."""
    if role not in ROLES or role == "owner":
        raise ValueError(f"role must be 'manager' or 'viewer', not {role!r}")
    return (Membership.update(role=role)
            .where((Membership.organisation == org_id) & (Membership.user == user_id)
                   & (Membership.role != "owner")).execute()) == 1


def remove_member(org_id: int, user_id: int) -> bool:
    """Remove a member who is not the owner; False if there is no such member."""
    removed = (Membership.delete()
               .where((Membership.organisation == org_id) & (Membership.user == user_id)
                      & (Membership.role != "owner")).execute()) == 1
    if removed:
        log.info("member removed organisation_id=%d user_id=%d", org_id, user_id)
    return removed


def transfer_ownership(org_id: int, new_owner_id: int) -> bool:
    """Make another member the owner; the old owner stays as a manager.  False if the new owner
    is not a member (or already the owner)."""
    with database.atomic():
        org = Organisation.get_or_none(Organisation.id == org_id)
        target = membership(new_owner_id, org_id)
        if org is None or target is None or target.role == "owner":
            return False
        Membership.update(role="manager").where((Membership.organisation == org_id)
                                                & (Membership.role == "owner")).execute()
        Membership.update(role="owner").where(Membership.id == target.id).execute()
        Organisation.update(owner=new_owner_id).where(Organisation.id == org_id).execute()
    log.info("ownership transferred organisation_id=%d new_owner_id=%d", org_id, new_owner_id)
    return True


def organisations_of(user_id: int) -> list[Organisation]:
    return list(Organisation.select().join(Membership)
                .where(Membership.user == user_id).order_by(Organisation.name, Organisation.id))


def get_organisation(user_id: int, org_id) -> Organisation | None:
    """The organisation if ``user_id`` is a member, else None."""
    member = membership(user_id, org_id)
    return member.organisation if member is not None else None


def memberships(org_id: int) -> list[Membership]:
    """The organisation's memberships (``m.user`` loaded), by username."""
    return list(Membership.select(Membership, User).join(User)
                .where(Membership.organisation == org_id).order_by(User.username))


def members(org_id: int) -> list[tuple[User, str]]:
    return [(m.user, m.role) for m in memberships(org_id)]


def create_invitation(user_id: int, org_id, valid_for: _dt.timedelta,
                      role: str = "viewer") -> Invitation | None:
    """A single-use invitation code for a "manager" or a "viewer"; None if the user is not a
    member, NotAllowed if not the owner."""
    if role not in ROLES or role == "owner":
        raise ValueError(f"an invitation is for a 'manager' or a 'viewer', not {role!r}")
    member = membership(user_id, org_id)
    if member is None:
        return None
    if member.role != "owner":
        raise NotAllowed("only the organisation's owner can invite")
    now = utcnow()
    return Invitation.create(organisation=member.organisation_id, code=secrets.token_urlsafe(24),
                             created_by=user_id, created_at=now, expires_at=now + valid_for,
                             role=role)


def get_invitation(code: str) -> Invitation | None:
    """The invitation if it exists, is unused and has not expired."""
    if not isinstance(code, str) or not 8 <= len(code) <= 64:
        return None
    inv = Invitation.get_or_none(Invitation.code == code)
    if inv is None or inv.accepted_at is not None or inv.expires_at <= utcnow():
        return None
    return inv


def accept_invitation(user_id: int, code: str) -> Organisation | None:
    """Join the invitation's organisation (the code is used up); None if unknown, used or expired."""
    with database.atomic():
        inv = get_invitation(code)
        if inv is None:
            return None
        used = (Invitation.update(accepted_by=user_id, accepted_at=utcnow())
                .where((Invitation.id == inv.id) & Invitation.accepted_at.is_null()).execute())
        if used != 1:
            return None
        if membership(user_id, inv.organisation_id) is None:
            Membership.create(organisation=inv.organisation_id, user=user_id, role=inv.role)
    log.info("invitation accepted organisation_id=%d user_id=%d", inv.organisation_id, user_id)
    return inv.organisation


# ----------------------------------------------------------------- exhibits
def create_exhibit(user_id: int, org_id, name: str, location: str = "",
                   description: str = "") -> Exhibit | None:
    """A new exhibit in one of the user's organisations (None unless its owner or a manager)."""
    member = membership(user_id, org_id)
    if member is None or member.role not in CONTRIBUTOR_ROLES:
        return None
    return Exhibit.create(organisation=int(org_id), name=name.strip()[:200],
                          location=(location or "").strip()[:200],
                          description=(description or "").strip()[:4000])


def list_exhibits(user_id: int, org_id=None, include_archived: bool = False,
                  roles: tuple[str, ...] = ROLES) -> list[Exhibit]:
    """Exhibits of the user's organisations (those where their role is one of ``roles``)."""
    query = (Exhibit.select().join(Membership, on=(Membership.organisation == Exhibit.organisation))
             .where((Membership.user == user_id) & Membership.role.in_(roles)))
    if org_id is not None:
        query = query.where(Exhibit.organisation == valid_id(org_id))
    if not include_archived:
        query = query.where(Exhibit.archived == False)  # noqa: E712 - peewee expression
    return list(query.order_by(Exhibit.name, Exhibit.id))


def get_exhibit(user_id: int, exhibit_id, roles: tuple[str, ...] = ROLES) -> Exhibit | None:
    """The exhibit if the user is a member of its organisation (in one of ``roles``), else None."""
    exhibit = Exhibit.get_or_none(Exhibit.id == valid_id(exhibit_id))
    member = membership(user_id, exhibit.organisation_id) if exhibit is not None else None
    if member is None or member.role not in roles:
        return None
    return exhibit


def recordable_exhibit(user_id: int, exhibit_id) -> Exhibit | None:
    """The exhibit if the user may add data to it (owner or manager) and it is not archived."""
    exhibit = get_exhibit(user_id, exhibit_id, CONTRIBUTOR_ROLES)
    return exhibit if exhibit is not None and not exhibit.archived else None


def update_exhibit(user_id: int, exhibit_id, **fields) -> Exhibit | None:
    """Change name, location, description or archived; None unless the user is the owner or a
    manager of its organisation."""
    unknown = set(fields) - set(EXHIBIT_FIELDS)
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    exhibit = get_exhibit(user_id, exhibit_id, CONTRIBUTOR_ROLES)
    if exhibit is None:
        return None
    for key, value in fields.items():
        setattr(exhibit, key, value.strip() if isinstance(value, str) else bool(value))
    exhibit.save()
    return exhibit


def exhibit_to_dict(exhibit: Exhibit) -> dict:
    return {"id": exhibit.id, "organisation_id": exhibit.organisation_id, "name": exhibit.name,
            "location": exhibit.location, "description": exhibit.description,
            "archived": bool(exhibit.archived), "created_at": iso(exhibit.created_at)}


