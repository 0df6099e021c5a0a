"""Opted-in visits (issue 21): a visit code links the recording sessions started with it, so
that a visitor can be suggested what to see next.  Only the SHA-256 of the code is stored (the
code is the visitor's only credential, like an API token).  Created by migration 8
(:mod:`db.migrations.v8_visits`).

    visit = create_visit(org_id, code_hash, expires_at, user_id)
    visit = live_visit(code_hash, now)               # None: unknown or expired
    link_session(visit, session)                     # that session's observations count for it
    rows = visit_rows(visit)                          # {exhibit id: observation rows}
    delete_visit(visit)                               # with its sessions and their observations
"""
from __future__ import annotations

import datetime as _dt
import logging

import peewee as pw

from db.base import BaseModel, database, utcnow
from db.museum import Exhibit, Organisation
from db.observations import Observation, RecordingSession, observation_rows
from db.users import User

log = logging.getLogger(__name__)


class Visit(BaseModel):
    organisation = pw.ForeignKeyField(Organisation, on_delete="CASCADE", index=True)
    code_hash = pw.CharField(max_length=64, unique=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField(index=True)

    class Meta:
        table_name = "visits"


class VisitSession(BaseModel):
    visit = pw.ForeignKeyField(Visit, on_delete="CASCADE", index=True)
    session = pw.ForeignKeyField(RecordingSession, on_delete="CASCADE", unique=True)
    linked_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "visit_sessions"


MODELS = [Visit, VisitSession]


def create_visit(organisation_id: int, code_hash: str, expires_at: _dt.datetime,
                 user_id: int | None = None) -> Visit:
    return Visit.create(organisation=organisation_id, code_hash=code_hash,
                        created_by=user_id, expires_at=expires_at)


def live_visit(code_hash: str, now: _dt.datetime) -> Visit | None:
    """The visit with this code hash, unless it has expired."""
    return Visit.get_or_none((Visit.code_hash == code_hash) & (Visit.expires_at > now))


def link_session(visit: Visit, session: RecordingSession) -> None:
    VisitSession.create(visit=visit.id, session=session.id)


def visit_sessions(visit: Visit) -> list[int]:
    return [vs.session_id for vs in VisitSession.select().where(VisitSession.visit == visit.id)]


def visit_rows(visit: Visit) -> dict[int, list[dict]]:
    """The observation rows of the visit's sessions, by exhibit (of the visit's organisation)."""
    out: dict[int, list[dict]] = {}
    sessions = (RecordingSession.select().join(Exhibit)
                .where(RecordingSession.id.in_(visit_sessions(visit))
                       & (Exhibit.organisation == visit.organisation_id)))
    for sess in sessions:
        out.setdefault(sess.exhibit_id, []).extend(observation_rows(sess.exhibit_id, session_id=sess.id))
    return out


def delete_visit(visit: Visit) -> None:
    """The visit, its sessions and their observations: nothing of it is left."""
    sessions = visit_sessions(visit)
    with database.atomic():
        if sessions:
            Observation.delete().where(Observation.session.in_(sessions)).execute()
            RecordingSession.delete().where(RecordingSession.id.in_(sessions)).execute()
        visit.delete_instance(recursive=False)
    log.info("visit deleted visit_id=%d sessions=%d", visit.id, len(sessions))


def delete_expired(now: _dt.datetime) -> int:
    """Delete every visit that expired before ``now``, as :func:`delete_visit` does."""
    expired = list(Visit.select().where(Visit.expires_at <= now))
    for visit in expired:
        delete_visit(visit)
    return len(expired)


def organisation_exhibits(organisation_id: int) -> list[Exhibit]:
    """The organisation's exhibits that are not archived, by id."""
    return list(Exhibit.select().where((Exhibit.organisation == organisation_id) & ~Exhibit.archived)
                .order_by(Exhibit.id))
