"""Users: accounts and their login data.

    user = create_user("ann", "ann@example.org", password_hash)   # DuplicateUser if taken
    get_user(user.id); get_user_by_login("ann"); update_user(user.id, full_name="Ann")
    delete_user(user.id)             # the database cascades to everything the user owns
"""
from __future__ import annotations

import logging
import secrets

import peewee as pw

from db.base import BaseModel, database, utcnow, valid_id

log = logging.getLogger(__name__)


class User(BaseModel):
    username = pw.CharField(max_length=40, unique=True)
    email = pw.CharField(max_length=254, unique=True)
    password_hash = pw.CharField(max_length=255)
    full_name = pw.CharField(max_length=100, default="")
    organisation = pw.CharField(max_length=100, default="")
    created_at = pw.DateTimeField(default=utcnow)
    # Number of computations this user has run (lifetime; not lowered when a
    # computation is deleted from the history).  Updated in the same
    # transaction as the Computation insert, with an SQL-side increment.
    computation_count = pw.IntegerField(default=0)
    # Random token that is part of the login id: rotating it logs out every
    # session and "remember me" cookie of this user (password change).
    auth_token = pw.CharField(max_length=64)
    last_login_at = pw.DateTimeField(null=True)  # added by migration 2

    class Meta:
        table_name = "users"


USER_FIELDS = ("email", "full_name", "organisation", "password_hash",
               "auth_token", "last_login_at")


class DuplicateUser(ValueError):
    """Username or e-mail already taken; ``field`` says which."""

    def __init__(self, field: str):
        super().__init__(f"{field} already taken")
        self.field = field


# -------------------------------------------------------------------- users
def new_auth_token() -> str:
    return secrets.token_hex(16)


def create_user(username: str, email: str, password_hash: str,
                full_name: str = "", organisation: str = "") -> User:
    """Insert a user.  Raises :class:`DuplicateUser` if the name or e-mail is taken."""
    username, email = username.strip(), email.strip().lower()
    if get_user_by_username(username) is not None:
        raise DuplicateUser("username")
    if get_user_by_email(email) is not None:
        raise DuplicateUser("email")
    try:
        with database.atomic():
            return User.create(username=username, email=email,
                               password_hash=password_hash, full_name=full_name,
                               organisation=organisation, auth_token=new_auth_token())
    except pw.IntegrityError as exc:  # lost a race with a parallel sign-up
        field = "email" if "email" in str(exc).lower() else "username"
        raise DuplicateUser(field) from exc


def get_user(user_id) -> User | None:
    user_id = valid_id(user_id)
    return None if user_id is None else User.get_or_none(User.id == user_id)


def get_user_by_username(username: str) -> User | None:
    return User.get_or_none(pw.fn.LOWER(User.username) == username.strip().lower())


def get_user_by_email(email: str) -> User | None:
    return User.get_or_none(User.email == email.strip().lower())


def get_user_by_login(name_or_email: str) -> User | None:
    """Look a user up by username or e-mail (what the login form accepts)."""
    if "@" in name_or_email:
        return get_user_by_email(name_or_email)
    return get_user_by_username(name_or_email)


def update_user(user_id: int, **fields) -> User:
    """Change some of ``email, full_name, organisation, password_hash,
    auth_token, last_login_at``.  Raises DuplicateUser for a taken e-mail,
    LookupError for an unknown user."""
    unknown = set(fields) - set(USER_FIELDS)
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    if "email" in fields:
        fields["email"] = fields["email"].strip().lower()
        other = get_user_by_email(fields["email"])
        if other is not None and other.id != user_id:
            raise DuplicateUser("email")
    try:
        with database.atomic():
            if fields:
                User.update(**fields).where(User.id == user_id).execute()
    except pw.IntegrityError as exc:
        raise DuplicateUser("email") from exc
    user = get_user(user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    return user


def delete_user(user_id: int) -> bool:
    """Delete a user; everything they own goes with them by ``ON DELETE CASCADE`` (computations,
    organisations, tokens, videos, ...). Collect the files to remove first
    (:func:`db.computations.owned_paths`). False for an unknown user."""
    return User.delete().where(User.id == user_id).execute() == 1
