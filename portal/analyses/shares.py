"""Each user's fair share of the real-time app: open webcam streams and photo uploads.

    streams = StreamShare(per_user=2, idle_s=10)
    streams.admit(user_id, key)      # False: this user already has ``per_user`` live streams
    slots = StreamSlots(per_user=2, is_open=lambda event_id: ...)
    slots.reserve(user_id)           # None: this user already holds ``per_user`` stream slots
    uploads = UploadShare(per_minute=10)
    uploads.admit(user_id)           # False: over the user's uploads in the last minute

In memory, per server process (the app runs in one process). No Gradio here.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class StreamShare:
    """Live webcam streams per user: a stream counts while it sent a frame in the last
    ``idle_s`` seconds (a closed tab stops counting by itself)."""

    def __init__(self, per_user: int, idle_s: float):
        self.per_user, self.idle_s = per_user, idle_s
        self._lock = threading.Lock()
        self._active: dict[int, dict[int, float]] = defaultdict(dict)

    def admit(self, user_id: int, key: int) -> bool:
        now = time.monotonic()
        with self._lock:
            streams = self._active[user_id]
            for other, seen in list(streams.items()):
                if now - seen > self.idle_s:
                    del streams[other]
            if key not in streams and len(streams) >= self.per_user:
                return False
            streams[key] = now
            return True

    def release(self, user_id: int, key: int) -> None:
        with self._lock:
            self._active.get(user_id, {}).pop(key, None)


class UploadShare:
    """Photo analyses per user in a moving one-minute window."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._times: dict[int, deque] = defaultdict(deque)

    def admit(self, user_id: int) -> bool:
        now = time.monotonic()
        with self._lock:
            times = self._times[user_id]
            while times and now - times[0] > 60.0:
                times.popleft()
            if len(times) >= self.per_minute:
                return False
            times.append(now)
            return True


class StreamSlots:
    """Open webcam stream events per user, counted at queue-join time: an event counts from
    its join until ``is_open(event_id)`` says the queue has let go of it (time limit, stop,
    disconnect, error), whether or not it ever sent a frame.

    ``reserve`` is synchronous (one event loop: no join slips between its check and its
    count); ``confirm`` names the reservation's event, ``cancel`` drops a failed join."""

    def __init__(self, per_user: int, is_open: Callable[[str], bool]):
        self.per_user, self.is_open = per_user, is_open
        self._lock = threading.Lock()
        self._events: dict[int, set] = defaultdict(set)

    def reserve(self, user_id: int) -> object | None:
        """A token for one more stream of ``user_id``; None when it already has ``per_user``."""
        with self._lock:
            events = self._events[user_id]
            events -= {e for e in events if isinstance(e, str) and not self.is_open(e)}
            if len(events) >= self.per_user:
                return None
            token = object()
            events.add(token)
            return token

    def owns(self, user_id: int, event_id: str) -> bool:
        """Whether ``event_id`` is one of ``user_id``'s stream events."""
        with self._lock:
            return event_id in self._events.get(user_id, ())

    def confirm(self, user_id: int, token: object, event_id: str) -> None:
        with self._lock:
            events = self._events[user_id]
            events.discard(token)
            events.add(event_id)

    def cancel(self, user_id: int, token: object) -> None:
        with self._lock:
            events = self._events[user_id]
            events.discard(token)
            if not events:
                del self._events[user_id]
