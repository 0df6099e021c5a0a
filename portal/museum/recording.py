"""Recording sessions (issue 11): Record on the live page, the kiosk, and API cameras: one recorder.

    recorder = Recorder.from_settings(museum_settings, analyses)  # the app factory's, shared
    rec = recorder.start(user_id, exhibit_id, origin="live")   # None: not the user's exhibit
    recorder.add(rec, faces, stream_key=id(stream))             # one analysed frame's faces
    summary = recorder.stop(user_id, rec.id)                    # flushed, summarised, closed
    rec = recorder.claim(user_id, sess)                         # an API camera's next frame
    rows = recorder.tracked(rec, faces, t); recorder.store(rec, t, rows)
    recorder.start_sweeper()                                    # abandoned ones closed

Pages (``live``, ``kiosk``): observations go to the database through :mod:`db.observations`
(the functions the JSON API uses); they are buffered in memory and flushed every ``flush_s``
seconds or ``flush_rows`` faces, so a crash or a closed tab loses at most that much.  A recording
without frames for ``abandon_s`` (a kiosk's: ``kiosk_idle_s``) is closed by :meth:`Recorder.sweep`
(and so is a session left open in the database by a crash, once idle for ``orphan_s``).

API cameras (``api``): the session is started in the database by ``POST /sessions``; its first
frame adopts it here with a tracker of its own whose track ids continue after the session's
highest stored one.  Frames carry the camera's own ``t`` and are written at once.  A camera
silent for ``api_idle_s`` loses its tracker only (the session stays open; a later frame adopts
it again).  Each user may feed ``api_per_user`` of them at once.

Kiosks and API cameras may send ``max_fps`` frames a second on average, in bursts of
:data:`portal.museum.frame_rate.BURST` (:class:`portal.museum.frame_rate.FrameBucket`).  Every
call names the authenticated user: another user's session id is unknown here.  No frame is
stored, only per-face numbers.
"""
from __future__ import annotations

import datetime as _dt
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import db
from db import observations
from db.base import valid_id
from portal.museum import analytics
from portal.museum.frame_rate import FrameBucket
from realtime import Stream

log = logging.getLogger(__name__)
PAGE_ORIGINS = ("live", "kiosk")  # recordings the pages start (Recorder.start)
ORIGINS = PAGE_ORIGINS + ("api",)  # ... and API camera sessions (Recorder.claim)


class TooMany(Exception):
    """A per-user limit was hit (recordings, API cameras, frame rate); ``retry_after`` seconds
    (int) to wait, 0 when unknown."""

    def __init__(self, message: str, retry_after: int = 0):
        super().__init__(message)
        self.retry_after = retry_after


def finish_session(sess, min_visitors: int, last_t: float | None = None) -> dict:
    """Summarise a session from its stored observations and close it (what the API's stop and
    the pages' Stop both do).  The duration is the last frame's ``t`` (``last_t`` when no face
    was seen in it), else the time since the session started.  Needs an open connection."""
    rows = observations.observation_rows(sess.exhibit_id, session_id=sess.id)
    last = max([r["t"] for r in rows] + ([last_t] if last_t else []), default=None)
    duration = last if last is not None else (db.base.utcnow() - sess.started_at).total_seconds()
    summary = analytics.session_summary(rows, duration, min_visitors)
    observations.stop_session(sess, summary)
    log.info("recording session stopped session_id=%d visitors=%d faces=%d",
             sess.id, summary["visitors"], summary["faces"])
    return summary


def frame_faces(analysis) -> list[dict]:
    """A tracked frame's faces (``realtime.pipeline.Analysis``) as observation input, with the
    track id from the stream's tracker."""
    return [dict(f.to_dict(), track_id=f.track_id) for f in analysis.faces]


@dataclass(frozen=True)
class RecordSettings:
    min_visitors: int = 5  # MuseumSettings.min_visitors
    flush_s: float = 10.0  # buffered observations are written at least this often...
    flush_rows: int = 200  # ...or as soon as this many faces are waiting
    abandon_s: float = 300.0  # a recording without frames for this long is closed
    kiosk_idle_s: float = 60.0  # ...a kiosk's (2 frames/s) sooner: KIOSK_IDLE_S
    orphan_s: float = 3600.0  # an open session nobody feeds (crash, API camera gone) is closed
    rollover_s: float = 3600.0  # a kiosk starts a new session this often
    max_per_user: int = 8  # page recordings (live, kiosk) one user may run at once
    api_per_user: int = 8  # API cameras one user may feed at once (API_MAX_SESSIONS)
    api_idle_s: float = 600.0  # an API camera's tracker is released after this long without a frame
    max_fps: float = 10.0  # a kiosk's or API camera's frames a second on average (API_MAX_FPS)
    sweep_every_s: float = 60.0  # start_sweeper()'s period; 0: none


@dataclass
class Recording:
    session: object  # db.observations.RecordingSession
    user_id: int
    origin: str
    exhibit_name: str
    t0: float  # clock at the start
    last_frame: float
    last_flush: float
    stream: object = None  # a kiosk's or API camera's own tracker (the live page's is the browser session's)
    stream_key: int | None = None
    bucket: FrameBucket | None = None  # a kiosk's or API camera's frame-rate limit (admit())
    base_track: int = 0  # added to the stream's track ids (a restarted stream starts again at 1)
    max_track: int = 0
    last_t: float | None = None
    frames: int = 0
    faces: int = 0
    pending: list = field(default_factory=list)  # [(t, [face, ...]), ...]
    pending_faces: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def id(self) -> int:
        return self.session.id

    @property
    def exhibit_id(self) -> int:
        return self.session.exhibit_id


class Recorder:
    def __init__(self, settings: RecordSettings | None = None,
                 make_stream: Callable[[], object] | None = None, max_pixels: int = 40_000_000,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings or RecordSettings()
        self.make_stream, self.max_pixels, self.clock = make_stream, max_pixels, clock
        self._recs: dict[int, Recording] = {}
        self._lock = threading.Lock()
        self._sweeper: threading.Thread | None = None
        self._stop_sweeper = threading.Event()

    @classmethod
    def from_settings(cls, museum, analyses, **kw) -> "Recorder":
        """The process's recorder: limits from ``museum`` (:class:`portal.museum.settings.MuseumSettings`),
        trackers with the live analyser of ``analyses`` (:class:`portal.analyses.service.Analyses`)."""
        settings = RecordSettings(min_visitors=museum.min_visitors, kiosk_idle_s=museum.kiosk_idle_s,
                                  api_per_user=museum.max_sessions, api_idle_s=museum.session_idle_s,
                                  max_fps=museum.max_fps)
        return cls(settings, make_stream=lambda: Stream(analyzer=analyses.analyzer(live=True)),
                   max_pixels=analyses.settings.max_pixels, **kw)

    # ------------------------------------------------------------ lookup
    def get(self, user_id: int, session_id) -> Recording | None:
        """The user's running recording ``session_id`` (None for anyone else's)."""
        with self._lock:
            rec = self._recs.get(valid_id(session_id) or 0)
        return rec if rec is not None and rec.user_id == user_id else None

    def running(self, user_id: int, origin: str | None = None) -> list[Recording]:
        with self._lock:
            return [r for r in self._recs.values()
                    if r.user_id == user_id and (origin is None or r.origin == origin)]

    def running_ids(self, origins: tuple[str, ...] = ORIGINS) -> set[int]:
        with self._lock:
            return {sid for sid, r in self._recs.items() if r.origin in origins}

    # ------------------------------------------------------------ start / add / stop
    def start(self, user_id: int, exhibit_id, origin: str = "live") -> Recording | None:
        """A new session at one of the user's non-archived exhibits (None otherwise)."""
        if origin not in PAGE_ORIGINS:
            raise ValueError(f"origin must be one of {PAGE_ORIGINS}")
        if sum(r.origin in PAGE_ORIGINS for r in self.running(user_id)) >= self.settings.max_per_user:
            raise TooMany(f"you already have {self.settings.max_per_user} recordings "
                          "running; stop one first")
        with db.connection():
            sess = observations.start_session(user_id, exhibit_id)
            name = sess.exhibit.name if sess is not None else ""
        if sess is None:
            return None
        now = self.clock()
        rec = Recording(session=sess, user_id=user_id, origin=origin, exhibit_name=name,
                        t0=now, last_frame=now, last_flush=now)
        with self._lock:
            self._recs[sess.id] = rec
        log.info("%s recording started session_id=%d exhibit_id=%d user_id=%d",
                 origin, sess.id, sess.exhibit_id, user_id)
        return rec

    def add(self, rec: Recording, faces: list[dict], stream_key: int | None = None) -> float:
        """Buffer one analysed frame's faces (dicts with ``track_id``, ``box``, ``emotion``,
        ``probabilities``); flush when due.  Returns the frame's ``t``."""
        with rec.lock:
            now = self.clock()
            t = round(now - rec.t0, 3)
            rows = self._count(rec, faces, stream_key, t)
            rec.last_frame = now
            if rows:
                rec.pending.append((t, rows))
                rec.pending_faces += len(rows)
            if rec.pending_faces >= self.settings.flush_rows or \
                    now - rec.last_flush >= self.settings.flush_s:
                self.flush(rec)
        return t

    @staticmethod
    def _count(rec: Recording, faces: list[dict], stream_key: int | None, t: float) -> list[dict]:
        """The frame's faces with the recording's track ids; its counts (caller holds ``rec.lock``)."""
        if stream_key != rec.stream_key:  # a new tracker: keep its ids apart from the old one's
            rec.base_track, rec.stream_key = rec.max_track, stream_key
        rows = [dict(f, track_id=rec.base_track + int(f["track_id"])) for f in faces]
        rec.max_track = max([rec.max_track] + [r["track_id"] for r in rows])
        rec.last_t = t
        rec.frames += 1
        rec.faces += len(rows)
        return rows

    def flush(self, rec: Recording) -> int:
        """Write the buffered observations (one transaction); kept for the next try on error."""
        with rec.lock:
            pending, rec.last_flush = rec.pending, self.clock()
            if not pending:
                return 0
            try:
                with db.connection(), db.database.atomic():
                    n = sum(observations.add_session_observations(rec.session, t, faces)
                            for t, faces in pending)
            except Exception:  # the database is away: keep the rows, the next flush retries
                log.exception("recording session %d: flush failed, %d faces kept", rec.id,
                              rec.pending_faces)
                return 0
            rec.pending, rec.pending_faces = [], 0
        return n

    def stop(self, user_id: int, session_id) -> dict | None:
        """Flush, summarise and close the user's recording (None if it is not running)."""
        rec = self.get(user_id, session_id)
        if rec is None:
            return None
        return self._close(rec)

    def discard(self, user_id: int, session_id) -> bool:
        """Forget the user's recording without saving what is buffered (it is being deleted)."""
        rec = self.get(user_id, session_id)
        if rec is not None:
            with self._lock:
                self._recs.pop(rec.id, None)
        return rec is not None

    def _close(self, rec: Recording) -> dict:
        with self._lock:
            self._recs.pop(rec.id, None)
        with rec.lock:
            self.flush(rec)
            with db.connection():
                sess = observations.get_session(rec.user_id, rec.id)
                if sess is None or sess.stopped_at is not None:  # deleted or stopped elsewhere
                    return {}
                return finish_session(sess, self.settings.min_visitors, rec.last_t)

    def idle_limit(self, rec: Recording) -> float:
        """Seconds without a frame after which ``rec`` is closed (a kiosk's page is gone)."""
        return self.settings.kiosk_idle_s if rec.origin == "kiosk" else self.settings.abandon_s

    def is_idle(self, rec: Recording) -> bool:
        return self.clock() - rec.last_frame >= self.idle_limit(rec)

    def close_idle(self, rec: Recording) -> bool:
        """Close ``rec`` if it went without frames for its idle limit (True when closed)."""
        if not self.is_idle(rec):
            return False
        log.info("%s recording session %d idle (no frame for %.0f s): closed",
                 rec.origin, rec.id, self.clock() - rec.last_frame)
        self._close(rec)
        return True

    def rollover(self, rec: Recording) -> Recording:
        """The kiosk's hourly new session: close ``rec``, start the next one at its exhibit."""
        if self.clock() - rec.t0 < self.settings.rollover_s:
            return rec
        self._close(rec)
        return self.start(rec.user_id, rec.exhibit_id, rec.origin) or rec

    # ------------------------------------------------------------ frame rate
    def admit(self, rec: Recording, now: float | None = None) -> float:
        """0 when ``rec`` may take a frame now (its token is taken: ``max_fps`` on average, bursts
        of BURST); else the seconds until one may.  The caller holds the lock guarding ``rec``."""
        if rec.bucket is None:
            rec.bucket = FrameBucket(self.settings.max_fps)
        return rec.bucket.take(self.clock() if now is None else now)

    # ------------------------------------------------------------ API cameras
    def claim(self, user_id: int, sess) -> Recording | None:
        """The recording of the user's open API session ``sess`` for one more frame: adopted on
        its first frame (or after its tracker was released), its frame rate checked.  None when
        the live page or a kiosk records that session.  Raises :class:`TooMany`."""
        now = self.clock()
        with self._lock:
            self._release_idle(now)
            rec = self._recs.get(sess.id)
            if rec is None:
                rec = self._adopt(user_id, sess, now)
            elif rec.origin != "api":
                return None
            wait = self.admit(rec, now)
            if wait:
                raise TooMany(f"too many frames for this session: {rec.bucket.describe()}",
                              retry_after=max(1, math.ceil(wait)))
            rec.last_frame = now
        return rec

    def _adopt(self, user_id: int, sess, now: float) -> Recording:
        """A recording for an API session (the caller holds ``self._lock``), within the user's
        ``api_per_user``; its tracker's ids continue after the session's stored ones."""
        running = sum(1 for r in self._recs.values() if r.user_id == user_id and r.origin == "api")
        if running >= self.settings.api_per_user:
            raise TooMany(f"you already have {running} recording sessions running "
                          f"(the limit is {self.settings.api_per_user}); stop one first")
        with db.connection():
            base = observations.max_track_id(sess.id)
        stream = self.make_stream()
        rec = Recording(session=sess, user_id=user_id, origin="api", exhibit_name="", t0=now,
                        last_frame=now, last_flush=now, stream=stream, stream_key=id(stream),
                        base_track=base, max_track=base)
        self._recs[sess.id] = rec
        log.debug("api recording session %d adopted (track ids after %d)", sess.id, base)
        return rec

    def _release_idle(self, now: float) -> None:
        """Forget the trackers of API cameras silent for ``api_idle_s`` (the caller holds
        ``self._lock``); their sessions stay open."""
        for rec in [r for r in self._recs.values()
                    if r.origin == "api" and now - r.last_frame > self.settings.api_idle_s]:
            log.info("recording session %d idle: tracker released", rec.id)
            del self._recs[rec.id]

    def tracked(self, rec: Recording, faces: list[dict], t: float) -> list[dict]:
        """An API camera's frame at its own ``t``: its faces with the session's track ids
        (``faces`` from ``rec.stream``; the caller holds ``rec.lock`` while it tracks)."""
        with rec.lock:
            return self._count(rec, faces, rec.stream_key, t)

    def store(self, rec: Recording, t: float, rows: list[dict]) -> int:
        """Write an API frame's observations at once (the camera may read them right after)."""
        with db.connection():
            return observations.add_session_observations(rec.session, t, rows)

    # ------------------------------------------------------------ sweep
    def sweep(self) -> list[int]:
        """Flush what is due, close recordings abandoned for ``abandon_s`` and sessions left
        open in the database for ``orphan_s`` (a crash, an API camera gone), release idle API
        cameras' trackers; returns the closed session ids."""
        now = self.clock()
        closed = []
        with self._lock:
            self._release_idle(now)
            recs = [r for r in self._recs.values() if r.origin in PAGE_ORIGINS]
        for rec in recs:
            if self.close_idle(rec):
                closed.append(rec.id)
            elif now - rec.last_flush >= self.settings.flush_s:
                self.flush(rec)
        closed += self._close_orphans()
        return closed

    def _close_orphans(self) -> list[int]:
        before = db.base.utcnow() - _dt.timedelta(seconds=self.settings.orphan_s)
        closed = []
        with db.connection():
            for sess in observations.idle_sessions(before, exclude=self.running_ids()):
                finish_session(sess, self.settings.min_visitors)
                closed.append(sess.id)
        return closed

    def start_sweeper(self) -> threading.Thread | None:
        """:meth:`sweep` every ``sweep_every_s`` (at most half ``kiosk_idle_s``) in a daemon
        thread (started by run.py)."""
        if self.settings.sweep_every_s <= 0 or self._sweeper is not None:
            return self._sweeper
        period = min(self.settings.sweep_every_s, max(self.settings.kiosk_idle_s / 2, 0.05))

        def loop():
            while not self._stop_sweeper.wait(period):
                try:
                    self.sweep()
                except Exception:  # noqa: BLE001 - the next round tries again
                    log.exception("recording sweep failed")
        self._sweeper = threading.Thread(target=loop, name="recording-sweep", daemon=True)
        self._sweeper.start()
        return self._sweeper

    def stop_sweeper(self) -> None:
        self._stop_sweeper.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=10)

