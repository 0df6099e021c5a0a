"""Computations: one analysed photo or captured webcam frame each, with its stored images.

    comp = record_computation(owner_id=1, kind="upload", result=..., faces_found=1, ...)
    page = list_computations(owner_id=1, page=1)
    paths = delete_computation(owner_id=1, comp_id=comp.id)     # the caller removes the files
"""
from __future__ import annotations

import json
import logging

import peewee as pw

from db.base import BaseModel, Page, database, iso, utcnow, valid_id
from db.users import User

log = logging.getLogger(__name__)


KINDS = ("upload", "webcam")


# Longest free text a computation keeps (characters); longer text is refused, never cut.
TEXT_LIMITS = {"title": 200, "exhibit": 200, "notes": 4000}


class Computation(BaseModel):
    owner = pw.ForeignKeyField(User, backref="computations", on_delete="CASCADE", index=True)
    kind = pw.CharField(max_length=16)  # one of KINDS
    created_at = pw.DateTimeField(default=utcnow, index=True)
    title = pw.CharField(max_length=200, default="")
    exhibit = pw.CharField(max_length=200, default="")
    notes = pw.TextField(default="")
    consent = pw.BooleanField(default=False)
    original_path = pw.CharField(max_length=500, default="")
    annotated_path = pw.CharField(max_length=500, default="")
    result_json = pw.TextField(default="{}")
    faces_found = pw.IntegerField(default=0)
    dominant_emotion = pw.CharField(max_length=32, null=True)
    timings_json = pw.TextField(default="{}")
    model_version = pw.CharField(max_length=100, default="")

    class Meta:
        table_name = "computations"


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
        "created_at": iso(comp.created_at),
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


def owned_paths(owner_id: int) -> list[str]:
    """Every image path the owner's computations refer to (to remove before deleting the owner)."""
    return _paths(Computation.select().where(Computation.owner == owner_id))
