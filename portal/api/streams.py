"""Recording sessions' trackers, kept in memory per session, with per-user limits.

A camera posts frames to ``POST /sessions/{id}/frames``; each session has its own
:class:`realtime.stream.Stream` (track ids, smoothing).  A session idle for longer than
``idle_s`` loses its tracker (a later frame starts a new one whose track ids continue after
the session's highest stored id).  Each user may run ``max_sessions`` trackers at once and
feed each one at most ``max_fps`` frames per second on average, in bursts of up to
:data:`portal.museum.frame_rate.BURST` (:class:`portal.museum.frame_rate.FrameBucket`, as the kiosk page).
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from portal.museum.frame_rate import BURST, FrameBucket

log = logging.getLogger(__name__)


class TooMany(Exception):
    """A per-user limit was hit; ``retry_after`` seconds (int) to wait, 0 when unknown."""

    def __init__(self, message: str, retry_after: int = 0):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Entry:
    user_id: int
    stream: object  # realtime.stream.Stream
    base_track: int  # added to the stream's track ids (see the module docstring)
    last_frame: float = field(default_factory=time.monotonic)
    last_t: float | None = None
    frames: int = 0
    bucket: FrameBucket | None = None  # the frame-rate limit
    lock: threading.Lock = field(default_factory=threading.Lock)


class SessionStreams:
    BURST = BURST  # frames a session may send closer together than 1/max_fps (network jitter)

    def __init__(self, max_sessions: int, max_fps: float, idle_s: float, clock=time.monotonic):
        self.max_sessions, self.rate, self.idle_s = max_sessions, max_fps, idle_s
        self.clock = clock
        self._entries: dict[int, Entry] = {}
        self._lock = threading.Lock()

    def _evict_idle(self, now: float) -> None:
        for sid in [s for s, e in self._entries.items() if now - e.last_frame > self.idle_s]:
            log.info("recording session %d idle: tracker released", sid)
            del self._entries[sid]

    def claim(self, session_id: int, user_id: int, make: Callable[[], tuple[object, int]]) -> Entry:
        """The session's entry, creating it with ``make() -> (stream, base_track)``; enforces the
        frame rate.  Raises :class:`TooMany`."""
        now = self.clock()
        with self._lock:
            self._evict_idle(now)
            entry = self._entries.get(session_id)
            if entry is None:
                running = sum(1 for e in self._entries.values() if e.user_id == user_id)
                if running >= self.max_sessions:
                    raise TooMany(f"you already have {running} recording sessions running "
                                  f"(the limit is {self.max_sessions}); stop one first")
                stream, base = make()
                entry = self._entries[session_id] = Entry(user_id, stream, base,
                                                          bucket=FrameBucket(self.rate, self.BURST))
            wait = entry.bucket.take(now)
            if wait:
                raise TooMany(f"too many frames for this session: {entry.bucket.describe()}",
                              retry_after=max(1, math.ceil(wait)))
            entry.last_frame = now
        return entry

    def release(self, session_id: int) -> Entry | None:
        """Forget the session's tracker; returns its entry (None if it had none)."""
        with self._lock:
            return self._entries.pop(session_id, None)

    def running(self) -> int:
        with self._lock:
            return len(self._entries)
