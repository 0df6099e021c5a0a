"""Password rules and hashing, and the login rate limiter."""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

MIN_PASSWORD = 10
MAX_PASSWORD = 128
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
_common: frozenset[str] | None = None


def common_passwords() -> frozenset[str]:
    global _common
    if _common is None:
        words = _COMMON_FILE.read_text(encoding="utf-8").split()
        _common = frozenset(w.strip().lower() for w in words if w.strip())
    return _common


def password_problem(password: str, username: str = "", email: str = "") -> str | None:
    """Why ``password`` is not acceptable, or None if it is."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    low = password.lower()
    if low in common_passwords() or len(set(low)) < 4:
        return "This password is too common or too easy to guess; choose another."
    for word in (username.lower(), email.lower().split("@")[0]):
        if len(word) >= 3 and word in low:
            return "The password must not contain your username or e-mail name."
    return None


def hash_password(password: str, method: str = "scrypt") -> str:
    return generate_password_hash(password, method=method)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return check_password_hash(password_hash, password)
    except (ValueError, TypeError):
        return False


class LoginLimiter:
    """Counts failed logins per key (client IP, attempted username) in a
    sliding window; a key with ``max_failures`` failures is blocked until the
    oldest one leaves the window.  In memory: one server process."""

    def __init__(self, max_failures: int = 5, window_seconds: int = 900, clock=time.monotonic):
        self.max_failures, self.window, self.clock = max_failures, window_seconds, clock
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque:
        q = self._failures[key]
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> int:
        """Seconds until any of ``keys`` may try again (0: allowed now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                q = self._trim(key, now)
                if len(q) >= self.max_failures:
                    wait = max(wait, q[0] + self.window - now)
                if not q:
                    self._failures.pop(key, None)
        return int(wait + 0.999)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._trim(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
