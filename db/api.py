"""Plain functions over the database; the only way portal/ and realtime/ touch it.

Every function needs an open connection in the calling thread; use
``with db.connection(): ...`` (nested uses are fine) or let the portal's
per-request hook open one.
"""
from __future__ import annotations

import json
import logging
import math
import secrets
from dataclasses import dataclass
from pathlib import Path

import peewee as pw
from playhouse import db_url

from db import migrations
from db.models import KINDS, TEXT_LIMITS, Computation, User, database, utcnow

log = logging.getLogger(__name__)

# SQLite with several writer processes (the server and its job workers): WAL lets readers run beside
# the writer; a writer waits up to SQLITE_BUSY_TIMEOUT_S for the write lock instead of failing with
# "database is locked"; and every transaction begins IMMEDIATE (takes the write lock first), so a
# transaction that reads and then writes never has to upgrade a stale read snapshot, the one case
# SQLite fails at once without waiting (issue 18: 3 of 12 photo batches failed that way).
SQLITE_BUSY_TIMEOUT_S = 30
SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "synchronous": "normal",
                  "busy_timeout": SQLITE_BUSY_TIMEOUT_S * 1000}
MAX_ID = 2**63 - 1  # the largest id both SQLite and PostgreSQL (bigint) can compare against

USER_FIELDS = ("email", "full_name", "organisation", "password_hash",
               "auth_token", "last_login_at")


class DuplicateUser(ValueError):
    """Username or e-mail already taken; ``field`` says which."""

    def __init__(self, field: str):
        super().__init__(f"{field} already taken")
        self.field = field


class TextTooLong(ValueError):
    """A title/exhibit/notes text over its limit (``TEXT_LIMITS``); the message says which."""

    def __init__(self, field: str, length: int, limit: int):
        super().__init__(f"The {field} is {length:,} characters long; the limit is {limit:,}. "
                         "Please shorten it.")
        self.field, self.length, self.limit = field, length, limit


def check_text_lengths(**texts: str | None) -> None:
    """Raise :class:`TextTooLong` for the first text over its limit in ``TEXT_LIMITS``."""
    for field, text in texts.items():
        limit = TEXT_LIMITS[field]
        if text and len(text) > limit:
            raise TextTooLong(field, len(text), limit)


@dataclass
class Page:
    """One page of a user's history, newest first."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# --------------------------------------------------------------- connection
def init(url_or_path: str | Path) -> pw.Database:
    """Point the models at a database and bring its schema up to date.

    ``url_or_path`` is either a database URL (``postgresql://user@host:5432/db``,
    ``sqlite:///path``; query parameters become driver options, e.g.
    ``?options=-csearch_path%3Dmyschema``) or a plain filesystem path to a
    SQLite file, whose parent directory is created.  SQLite runs in WAL mode
    with foreign keys on, a busy timeout and write transactions that take the write lock when
    they begin (``BEGIN IMMEDIATE``, see :data:`SQLITE_PRAGMAS`).
    """
    target = str(url_or_path)
    sqlite_path = sqlite_file(target)
    if "://" in target and not target.startswith("sqlite://"):
        real = db_url.connect(target)
    else:
        path = str(sqlite_path) if sqlite_path is not None else ":memory:"
        if sqlite_path is not None:
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        real = pw.SqliteDatabase(path, timeout=SQLITE_BUSY_TIMEOUT_S, lock_type="IMMEDIATE",
                                 pragmas=SQLITE_PRAGMAS)
    old = database.obj
    if old is not None and not old.is_closed():
        old.close()
    database.initialize(real)
    with database.connection_context():
        version = migrations.migrate(real)
    log.info("database ready: %s (schema version %d)", describe(target), version)
    return real


def sqlite_file(url_or_path: str | Path) -> Path | None:
    """The SQLite database file ``url_or_path`` names (None for other databases)."""
    target = str(url_or_path)
    if "://" in target and not target.startswith("sqlite://"):
        return None
    path = target[len("sqlite:///"):] if target.startswith("sqlite:///") else target
    return None if path == ":memory:" else Path(path)


def describe(url_or_path: str) -> str:
    """The database location with any password removed (safe to log)."""
    text = str(url_or_path)
    if "://" in text and "@" in text.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = text.split("://", 1)
        cred, host = rest.split("@", 1)
        return f"{scheme}://{cred.split(':', 1)[0]}@{host.split('?', 1)[0]}"
    return text.split("?", 1)[0]


def connection():
    """Context manager: a connection for this thread (re-entrant)."""
    return database.connection_context()


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


def valid_id(value) -> int | None:
    """``value`` as a row id, or None if it cannot be one (not an integer, < 1, > MAX_ID):
    such ids match nothing, and the database is never asked (it would overflow)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= MAX_ID else None


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


def delete_user(user_id: int) -> list[str]:
    """Delete a user and all their computations (one transaction).

    Returns the image paths those computations referred to; the caller
    removes the files.  Unknown user: empty list.
    """
    with database.atomic():
        paths = _paths(Computation.select().where(Computation.owner == user_id))
        Computation.delete().where(Computation.owner == user_id).execute()
        User.delete().where(User.id == user_id).execute()
    return paths


# ------------------------------------------------------------- computations
def record_computation(*, owner_id: int, kind: str, result: dict, faces_found: int,
                       dominant_emotion: str | None, timings: dict, model_version: str,
                       title: str = "", exhibit: str = "", notes: str = "", consent: bool = False,
                       original_path: str = "", annotated_path: str = "") -> Computation:
    """Store one computation and add 1 to the owner's ``computation_count`` (keyword arguments only).

    Both writes happen in one transaction; the count is incremented in SQL
    (``count = count + 1``), so parallel calls never lose an update.

    Arguments:
        owner_id: the user's id.
        kind: ``"upload"`` or ``"webcam"``.
        title, exhibit, notes: free text from the user ("" when absent).
        consent: the user confirmed the people pictured agreed.
        original_path, annotated_path: where the images are stored; absolute
            or relative to the data directory (the portal resolves relative
            paths against ``DATA_DIR``).  Deleting the computation or the user
            hands these back to be removed.
        result: the real-time core's result dict (stored as JSON).
        faces_found: number of faces in ``result``.
        dominant_emotion: e.g. ``"happy"``; None when no face was found.
        timings: stage -> milliseconds (stored as JSON).
        model_version: the classifier's name/version string.

    Raises ValueError for an unknown kind, :class:`TextTooLong` for a title, exhibit or
    notes text over ``TEXT_LIMITS`` (nothing is stored; nothing is cut) and LookupError for
    an unknown owner.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    check_text_lengths(title=title, exhibit=exhibit, notes=notes)
    with database.atomic():
        updated = (User.update(computation_count=User.computation_count + 1)
                   .where(User.id == owner_id).execute())
        if updated != 1:
            raise LookupError(f"no user {owner_id}")
        comp = Computation.create(
            owner=owner_id, kind=kind, created_at=utcnow(), title=title or "",
            exhibit=exhibit or "", notes=notes or "", consent=bool(consent),
            original_path=str(original_path or ""), annotated_path=str(annotated_path or ""),
            result_json=json.dumps(result), faces_found=int(faces_found),
            dominant_emotion=dominant_emotion, timings_json=json.dumps(timings or {}),
            model_version=model_version or "")
    log.info("computation recorded user_id=%d computation_id=%d kind=%s faces=%d "
             "dominant=%s timings_ms=%s", owner_id, comp.id, kind, int(faces_found),
             dominant_emotion, json.dumps(timings or {}))
    return comp


def list_computations(owner_id: int, page: int = 1, per_page: int = 10) -> Page:
    """The owner's computations, newest first; ``page`` counts from 1 (a page past the
    last one is empty, without asking the database: a huge offset would overflow)."""
    query = Computation.select().where(Computation.owner == owner_id)
    total = query.count()
    page = max(1, int(page))
    items = [] if (page - 1) * per_page >= max(total, 1) else list(
        query.order_by(Computation.created_at.desc(), Computation.id.desc()).paginate(page, per_page))
    return Page(items=items, total=total, page=page, per_page=per_page)


def count_computations(owner_id: int) -> int:
    """How many computations the owner still has in the history."""
    return Computation.select().where(Computation.owner == owner_id).count()


def get_computation(owner_id: int, comp_id) -> Computation | None:
    """The computation, or None if it does not exist or belongs to someone else."""
    comp_id = valid_id(comp_id)
    if comp_id is None:
        return None
    return Computation.get_or_none((Computation.id == comp_id) &
                                   (Computation.owner == owner_id))


def delete_computation(owner_id: int, comp_id) -> list[str] | None:
    """Delete the owner's computation; returns its image paths (for the
    caller to remove), or None if it is not the owner's / does not exist."""
    with database.atomic():
        comp = get_computation(owner_id, comp_id)
        if comp is None:
            return None
        paths = _paths([comp])
        comp.delete_instance()
    return paths


def computation_ids(owner_id: int) -> list[int]:
    """The ids of the owner's computations (e.g. to remove their downloads with them)."""
    return [row.id for row in Computation.select(Computation.id).where(Computation.owner == owner_id)]


def stored_paths():
    """Every image path any computation refers to (as stored), one at a time."""
    query = Computation.select(Computation.original_path, Computation.annotated_path)
    for row in query.iterator():
        yield from (p for p in (row.original_path, row.annotated_path) if p)


def computation_to_dict(comp: Computation) -> dict:
    """JSON-ready metadata + stored result of a computation."""
    return {
        "id": comp.id,
        "owner_id": comp.owner_id,
        "kind": comp.kind,
        "created_at": comp.created_at.replace(microsecond=0).isoformat() + "Z",
        "title": comp.title,
        "exhibit": comp.exhibit,
        "notes": comp.notes,
        "consent": comp.consent,
        "faces_found": comp.faces_found,
        "dominant_emotion": comp.dominant_emotion,
        "model_version": comp.model_version,
        "timings_ms": json.loads(comp.timings_json or "{}"),
        "result": json.loads(comp.result_json or "{}"),
    }


def _paths(comps) -> list[str]:
    out = []
    for comp in comps:
        out += [p for p in (comp.original_path, comp.annotated_path) if p]
    return out
