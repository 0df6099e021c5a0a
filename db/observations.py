"""Recording sessions and observations (issue 11): what an exhibit's analytics are computed from.

    sess = start_session(user_id, exhibit_id)              # None: not the user's exhibit
    add_session_observations(sess, [face_row, ...])        # one frame's faces
    stop_session(user_id, sess.id, summary)
    attach_computation(user_id, comp, exhibit_id)          # a photo's faces become observations
    add_video_observations(video, timeline)                # an analysed video's tracked faces
    rows = observation_rows(exhibit_id, start, end)        # plain dicts, oldest first
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
from typing import Iterable

import peewee as pw

from db.base import EMOTIONS, BaseModel, database, utcnow, valid_id
from db.computations import Computation
from db.museum import Exhibit, recordable_exhibit
from db.users import User
from db.videos import Video

log = logging.getLogger(__name__)


SOURCES = ("session", "upload", "webcam", "video")


class RecordingSession(BaseModel):
    exhibit = pw.ForeignKeyField(Exhibit, on_delete="CASCADE", index=True)
    owner = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
    started_at = pw.DateTimeField(default=utcnow)
    stopped_at = pw.DateTimeField(null=True)
    summary_json = pw.TextField(default="{}")

    class Meta:
        table_name = "recording_sessions"


class ExhibitComputation(BaseModel):
    """A computation (upload / webcam capture) attached to an exhibit: its faces are observations."""
    computation = pw.ForeignKeyField(Computation, on_delete="CASCADE", unique=True)
    exhibit = pw.ForeignKeyField(Exhibit, on_delete="CASCADE", index=True)

    class Meta:
        table_name = "exhibit_computations"


class Observation(BaseModel):
    """One face seen once: in a session frame (``t`` seconds after its start), in a photo, or
    in a frame of an uploaded video (``t`` seconds into it; ``video`` added by migration 5)."""
    exhibit = pw.ForeignKeyField(Exhibit, on_delete="CASCADE", index=True)
    session = pw.ForeignKeyField(RecordingSession, null=True, on_delete="CASCADE", index=True)
    computation = pw.ForeignKeyField(Computation, null=True, on_delete="CASCADE", index=True)
    video = pw.ForeignKeyField(Video, null=True, on_delete="CASCADE", index=True)
    source = pw.CharField(max_length=16)  # one of SOURCES
    t = pw.FloatField(default=0.0)
    observed_at = pw.DateTimeField(index=True)
    track_id = pw.IntegerField()
    p_angry = pw.FloatField()
    p_disgust = pw.FloatField()
    p_fear = pw.FloatField()
    p_happy = pw.FloatField()
    p_sad = pw.FloatField()
    p_surprise = pw.FloatField()
    p_neutral = pw.FloatField()
    emotion = pw.CharField(max_length=32)
    face_size = pw.IntegerField(default=0)  # larger side of the face box, pixels
    uncertain = pw.BooleanField(default=False)  # the model's rule marked the answer doubtful (migration 7)

    class Meta:
        table_name = "observations"


MODELS = [RecordingSession, ExhibitComputation, Observation]


def start_session(user_id: int, exhibit_id) -> RecordingSession | None:
    """A new recording session at a (non-archived) exhibit the user may record at (owner or
    manager of its organisation), else None."""
    exhibit = recordable_exhibit(user_id, exhibit_id)
    if exhibit is None:
        return None
    return RecordingSession.create(exhibit=exhibit, owner=user_id, started_at=utcnow())


def get_session(user_id: int, session_id) -> RecordingSession | None:
    """The user's own session (a colleague's sessions are not theirs to feed or stop)."""
    session_id = valid_id(session_id)
    if session_id is None:
        return None
    return RecordingSession.get_or_none((RecordingSession.id == session_id) &
                                        (RecordingSession.owner == user_id))


def max_track_id(session_id: int) -> int:
    return (Observation.select(pw.fn.MAX(Observation.track_id))
            .where(Observation.session == session_id).scalar() or 0)


def _observation(face: dict, **fields) -> dict:
    probs = face["probabilities"]
    box = face.get("box") or (0, 0, 0, 0)
    row = {f"p_{e}": float(probs.get(e, 0.0)) for e in EMOTIONS}
    row.update(emotion=face["emotion"], face_size=int(max(box[2], box[3])),
               uncertain=bool(face.get("uncertain", False)), **fields)
    return row


def add_session_observations(session: RecordingSession, t: float, faces: list[dict],
                             observed_at: _dt.datetime | None = None) -> int:
    """Store one frame's faces (dicts with ``track_id``, ``box`` (x, y, w, h), ``emotion``,
    ``probabilities``).  ``observed_at`` defaults to the session start + ``t``."""
    when = observed_at or session.started_at + _dt.timedelta(seconds=float(t))
    rows = [_observation(f, exhibit=session.exhibit_id, session=session.id, source="session",
                         t=float(t), observed_at=when, track_id=int(f["track_id"]))
            for f in faces]
    if rows:
        with database.atomic():
            Observation.insert_many(rows).execute()
    return len(rows)


def stop_session(session: RecordingSession, summary: dict) -> RecordingSession:
    session.stopped_at = utcnow()
    session.summary_json = json.dumps(summary)
    session.save()
    return session


def attach_computation(user_id: int, comp: Computation, exhibit_id) -> Exhibit | None:
    """Attach the user's computation to an exhibit of theirs: each face becomes an observation
    (one visitor each, seen at the computation's time).  None if the user may not record at the
    exhibit (not a member, a viewer, archived) or the computation is already attached."""
    exhibit = recordable_exhibit(user_id, exhibit_id)
    if exhibit is None or comp.owner_id != user_id \
            or attached_exhibit(comp.id) is not None:
        return None
    faces = json.loads(comp.result_json or "{}").get("faces") or []
    rows = [_observation(f, exhibit=exhibit.id, computation=comp.id, source=comp.kind, t=0.0,
                         observed_at=comp.created_at, track_id=i)
            for i, f in enumerate(faces, 1)]
    with database.atomic():
        ExhibitComputation.create(computation=comp.id, exhibit=exhibit.id)
        if rows:
            Observation.insert_many(rows).execute()
    return exhibit


def add_video_observations(video: Video, timeline: Iterable[dict], batch: int = 500) -> int:
    """The tracked faces of an analysed video attached to an exhibit become observations (one
    per face per analysed frame; a track is a visitor, seen ``t`` seconds into the video at
    upload time + ``t``).  Replaces earlier ones (a retried job); 0 if the video has no exhibit
    or the exhibit is no longer one of its owner's (or archived).  ``timeline``: the result's
    ``{"t", "faces": [{"track_id", "box", "emotion", "probabilities"}]}`` entries."""
    exhibit = recordable_exhibit(video.owner_id, video.exhibit_id) if video.exhibit_id else None
    if exhibit is None:
        return 0
    count, rows = 0, []
    with database.atomic():
        Observation.delete().where(Observation.video == video.id).execute()
        for frame in timeline:
            t = float(frame["t"])
            when = video.created_at + _dt.timedelta(seconds=t)
            rows += [_observation(f, exhibit=exhibit.id, video=video.id, source="video", t=t,
                                  observed_at=when, track_id=int(f["track_id"]))
                     for f in frame["faces"]]
            if len(rows) >= batch:
                Observation.insert_many(rows).execute()
                count, rows = count + len(rows), []
        if rows:
            Observation.insert_many(rows).execute()
            count += len(rows)
    log.info("video %d: %d observations for exhibit %d", video.id, count, exhibit.id)
    return count


def attached_exhibit(comp_id: int) -> Exhibit | None:
    """The exhibit a computation is attached to, if any."""
    link = ExhibitComputation.get_or_none(ExhibitComputation.computation == comp_id)
    return link.exhibit if link is not None else None


def _recorded_by(owner_id: int):
    """Observations from the user's own sessions, photos and videos."""
    return (Observation.session.in_(RecordingSession.select(RecordingSession.id)
                                    .where(RecordingSession.owner == owner_id))
            | Observation.computation.in_(Computation.select(Computation.id)
                                          .where(Computation.owner == owner_id))
            | Observation.video.in_(Video.select(Video.id).where(Video.owner == owner_id)))


def observation_rows(exhibit_id: int, start: _dt.datetime | None = None,
                     end: _dt.datetime | None = None, session_id: int | None = None,
                     owner_id: int | None = None) -> list[dict]:
    """Observations as plain dicts (oldest first): ``source``, ``session_id``, ``computation_id``,
    ``video_id``, ``t``, ``observed_at``, ``track_id``, ``probabilities`` {emotion: p}, ``emotion``,
    ``uncertain`` (counted apart from ``emotion`` by the analytics), ``face_size``.  ``owner_id``:
    only those the user recorded (:func:`_recorded_by`)."""
    query = Observation.select().where(Observation.exhibit == exhibit_id)
    if owner_id is not None:
        query = query.where(_recorded_by(owner_id))
    if start is not None:
        query = query.where(Observation.observed_at >= start)
    if end is not None:
        query = query.where(Observation.observed_at < end)
    if session_id is not None:
        query = query.where(Observation.session == session_id)
    return [{"source": o.source, "session_id": o.session_id, "computation_id": o.computation_id,
             "video_id": o.video_id,
             "t": o.t, "observed_at": o.observed_at, "track_id": o.track_id,
             "probabilities": {e: getattr(o, f"p_{e}") for e in EMOTIONS},
             "emotion": o.emotion, "uncertain": bool(o.uncertain), "face_size": o.face_size}
            for o in query.order_by(Observation.observed_at, Observation.id).iterator()]


def idle_sessions(before: _dt.datetime, exclude: set[int] = frozenset()) -> list[RecordingSession]:
    """Open sessions (not in ``exclude``) with nothing since ``before``: neither their start
    nor their latest observation."""
    last = (Observation.select(Observation.session, pw.fn.MAX(Observation.observed_at).alias("last"))
            .where(Observation.session.is_null(False)).group_by(Observation.session).alias("last_seen"))
    query = (RecordingSession.select()
             .join(last, pw.JOIN.LEFT_OUTER, on=(last.c.session_id == RecordingSession.id))
             .where(RecordingSession.stopped_at.is_null() & (RecordingSession.started_at < before)
                    & (last.c.last.is_null() | (last.c.last < before))))
    return [s for s in query if s.id not in exclude]


def exhibit_sessions(exhibit_id: int, limit: int = 200) -> list[RecordingSession]:
    """An exhibit's recording sessions, newest first (the caller checked membership)."""
    return list(RecordingSession.select().where(RecordingSession.exhibit == exhibit_id)
                .order_by(RecordingSession.started_at.desc(), RecordingSession.id.desc())
                .limit(limit))


def delete_session(user_id: int, session_id) -> bool:
    """Delete the user's own session and its observations; False if it is not theirs."""
    sess = get_session(user_id, session_id)
    if sess is None:
        return False
    with database.atomic():
        Observation.delete().where(Observation.session == sess.id).execute()
        sess.delete_instance()
    log.info("recording session deleted session_id=%d user_id=%d", sess.id, user_id)
    return True
