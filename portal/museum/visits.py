"""Opted-in visits (issue 21): the visit code, its expiry, which sessions count for it, and its
suggestions.  Framework-free; needs an open database connection.

    code, visit = start(user_id, org_id, expires_at)        # NotFound / NotAllowed (roles)
    visit = find(code, now)                                 # NotFound: wrong, expired, deleted
    join(visit, session)                                    # NotFound: another organisation's
    answer = what_next(visit, min_visitors)                 # {"visited", "suggestions"}
    end(visit)                                              # with its sessions and observations

The code is the visitor's only credential: 12 characters of Crockford's base32 (60 bits from
:mod:`secrets`) shown in three groups of four (``K7QM-4TRW-9XHD``); only its SHA-256 is stored,
and it is never logged.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import re
import secrets

from db import visit_outcomes
from db import visits as visit_rows
from db.base import utcnow
from db.observations import RecordingSession, observation_rows
from portal.museum import roles, suggest
from portal.museum.roles import NotFound

log = logging.getLogger(__name__)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
LENGTH, GROUP = 12, 4  # 60 bits
READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
UTC = _dt.timezone.utc
CODE_IN_PATH = re.compile(r"^((?:/api/v1)?/(?:visits?|invitations)/)[^/]+")  # visit and invitation codes
KEPT = ("What is kept: your reaction numbers at each exhibit, linked to this code until the end of "
        "the day. No image. No face matching between kiosks: the code links the visit, never the face.")
__all__ = ["NotFound", "KEPT", "new_code", "normalise", "code_hash", "day_end", "start", "find",
           "join", "what_next", "overview", "recordings", "end", "hide_code"]


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))


def normalise(code: str) -> str | None:
    """The code as stored (upper case, no dashes or spaces, O/I/L read as 0/1); None when it
    cannot be a code at all."""
    text = "".join(str(code or "").split()).replace("-", "").upper().translate(READS_AS)
    return text if len(text) == LENGTH and all(c in ALPHABET for c in text) else None


def hide_code(path: str) -> str:
    """A request path fit for a log line: the code of ``/visit/<code>...`` (the phone page) and
    ``/api/v1/visits/<code>...``, and of ``(/api/v1)/invitations/<code>...``, replaced by ``<code>``."""
    return CODE_IN_PATH.sub(r"\1<code>", path or "")


def code_hash(code: str) -> str | None:
    text = normalise(code)
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def day_end(now: _dt.datetime, tz: _dt.tzinfo, ends: str = "00:00") -> _dt.datetime:
    """The next ``ends`` (local "HH:MM" in ``tz``; "00:00": midnight) after ``now`` (naive UTC),
    as naive UTC: when a visit started at ``now`` expires."""
    hour, minute = (int(x) for x in ends.split(":"))
    local = now.replace(tzinfo=UTC).astimezone(tz)
    end = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if end <= local:
        end = (local + _dt.timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return end.astimezone(UTC).replace(tzinfo=None)


def start(user_id: int, organisation_id, expires_at: _dt.datetime):
    """A new visit at an organisation where the user may record (owner, manager)."""
    member = roles.require(user_id, organisation_id, "record")
    code = new_code()
    visit = visit_rows.create_visit(member.organisation_id, code_hash(code), expires_at, user_id)
    log.info("visit started visit_id=%d organisation_id=%d", visit.id, visit.organisation_id)
    return code, visit


def find(code: str, now: _dt.datetime):
    digest = code_hash(code)
    visit = visit_rows.live_visit(digest, now) if digest else None
    if visit is None:
        raise NotFound("visit not found (wrong code, ended or expired)")
    return visit


def join(visit, session: RecordingSession) -> None:
    """The session's observations count for the visit too; a visit of another organisation
    than the session's exhibit's is unknown there (NotFound).  A new exhibit after suggestions
    were shown is counted as suggested-then-visited or not (:mod:`db.visit_outcomes`)."""
    if session.exhibit.organisation_id != visit.organisation_id:
        raise NotFound("visit not found (wrong code, ended or expired)")
    followed = visit_outcomes.record_move(visit, session.exhibit_id, utcnow())
    visit_rows.link_session(visit, session)
    if followed is not None:
        log.info("visit moved on visit_id=%d suggested=%s", visit.id, followed)


def _profiles(exhibits) -> list:
    return [suggest.profile_from_rows(x.id, x.name, observation_rows(x.id), x.location)
            for x in exhibits]


def what_next(visit, min_visitors: int) -> dict:
    """The exhibits the visit has readings at, and at most three suggestions among the other
    (non-archived) exhibits of its organisation; the suggestions are stored as shown."""
    exhibits = visit_rows.organisation_exhibits(visit.organisation_id)
    by_exhibit = visit_rows.visit_rows(visit)
    readings = [r for r in (suggest.reading_from_rows(x, rows) for x, rows in by_exhibit.items()) if r]
    visited = sorted(by_exhibit)
    profiles = [p for p in _profiles(exhibits) if p.exhibit_id not in by_exhibit
                or p.exhibit_id in {r.exhibit_id for r in readings}]
    chosen = [s for s in suggest.suggest(profiles, readings, min_visitors=min_visitors)
              if s["exhibit_id"] not in by_exhibit]
    unvisited = sum(1 for x in exhibits if x.id not in by_exhibit)
    visit_outcomes.record_shown(visit, [s["exhibit_id"] for s in chosen], unvisited, utcnow())
    return {"visited": visited, "suggestions": chosen}


def overview(visit, min_visitors: int) -> dict:
    """What the visitor's pages show: the visited exhibits (names), the suggestions, the expiry."""
    answer = what_next(visit, min_visitors)
    names = {x.id: x for x in visit_rows.organisation_exhibits(visit.organisation_id)}
    visited = [{"exhibit_id": i, "name": names[i].name, "location": names[i].location or ""}
               for i in answer["visited"] if i in names]
    return {"visited": visited, "suggestions": answer["suggestions"], "expires_at": visit.expires_at}


def recordings(visit) -> list[tuple[int, int]]:
    """``(user id, session id)`` of the visit's recording sessions (a kiosk may still be
    recording into one: it must forget it before the visit is deleted)."""
    ids = visit_rows.visit_sessions(visit)
    return [(s.owner_id, s.id) for s in RecordingSession.select().where(RecordingSession.id.in_(ids))] if ids else []


def end(visit) -> None:
    """Delete the visit now, with its sessions and their observations."""
    visit_rows.delete_visit(visit)


def delete_expired(now: _dt.datetime) -> int:
    count = visit_rows.delete_expired(now)
    if count:
        log.info("expired visits deleted count=%d", count)
    return count


def start_expiry(every_s: float = 600.0, clock=utcnow):
    """Delete expired visits (with their sessions and readings) now and then every ``every_s`` seconds, in a
    daemon thread: a code's data goes at its expiry even when no new visit is started (run.py wires it).
    Returns the event that stops it."""
    import threading

    import db

    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                with db.connection():
                    delete_expired(clock())
            except Exception:  # noqa: BLE001 - keep the schedule; the next run retries
                log.exception("visit expiry run failed")
            if stop.wait(every_s):
                return

    threading.Thread(target=loop, name="visit-expiry", daemon=True).start()
    return stop
