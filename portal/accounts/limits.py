"""Failed password logins, counted per account (issue 18): one set of counters for the portal's
login form and the API's ``POST /token``, in Redis when ``REDIS_URL`` is set, in memory otherwise.

    attempts = LoginAttempts(config)
    ok, wait = attempts.attempt(ip, LoginAttempts.account(name, user_id), verify=lambda: check(password))
"""
from __future__ import annotations

import logging
import math
import threading
import time
import zlib

log = logging.getLogger(__name__)


class LoginAttempts:
    """Failed password logins, one set of counters for the login form and the API's
    ``POST /token`` (issue 18): per IP + account (``LOGIN_LIMIT``), per account (``LOGIN_USER_LIMIT``)
    and per IP (``LOGIN_IP_LIMIT``), in Redis when ``REDIS_URL`` is set (every process shares them),
    in memory otherwise.  An existing account is counted by its id, so its name and its e-mail
    share one counter.  :meth:`attempt` checks, verifies and counts under a lock per account (a
    Redis lock with ``REDIS_URL``), so parallel bursts cannot all pass the check before any of
    them is counted."""

    STRIPES = 64

    def __init__(self, config, scope: str = "login", lock_wait_s: float = 10.0):
        from limits import parse, storage, strategies

        self._window = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(config.redis_url or "memory://"))
        self._limits = [(parse(config.login_limit), "ip-user"), (parse(config.login_user_limit), "user"),
                        (parse(config.login_ip_limit), "ip")]
        self._prefix = f"{config.ratelimit_prefix}:{scope}"
        self._redis_url, self._redis, self.lock_wait_s = config.redis_url, None, lock_wait_s
        self._stripes = [threading.Lock() for _ in range(self.STRIPES)]

    @staticmethod
    def account(login: str, user_id: int | None) -> str:
        """The counter's name: the account's id, or the typed name for an unknown one."""
        return f"id:{user_id}" if user_id is not None else "name:" + (login or "").strip().lower()[:254]

    def _keys(self, ip: str, account: str):
        ids = {"ip-user": f"{ip}:{account}", "user": account, "ip": ip}
        return [(limit, self._prefix, kind, ids[kind]) for limit, kind in self._limits]

    def retry_after(self, ip: str, account: str) -> int:
        """Seconds to wait before the next attempt (0: allowed now)."""
        wait = 0.0
        for limit, *ids in self._keys(ip, account):
            if not self._window.test(limit, *ids):
                reset_at, _ = self._window.get_window_stats(limit, *ids)
                wait = max(wait, reset_at - time.time(), 1.0)
        return math.ceil(wait)

    def failed(self, ip: str, account: str) -> None:
        for limit, *ids in self._keys(ip, account):
            self._window.hit(limit, *ids)

    def attempt(self, ip: str, account: str, verify) -> tuple[bool, int]:
        """``(ok, wait)``: ``verify()`` (the password check) runs only when no limit is reached
        (else ``(False, seconds to wait)``); a failure is counted before the lock is released."""
        lock = self._lock(account)
        acquired = lock.acquire() if self._redis_url else lock.acquire(timeout=self.lock_wait_s)
        if not acquired:
            log.warning("login attempts queued too long for one account; refused")
            return False, 1
        try:
            wait = self.retry_after(ip, account)
            if wait:
                return False, wait
            ok = bool(verify())
            if not ok:
                self.failed(ip, account)
            return ok, 0
        finally:
            lock.release()

    def _lock(self, account: str):
        if not self._redis_url:
            return self._stripes[zlib.crc32(account.encode()) % self.STRIPES]
        if self._redis is None:
            import redis
            self._redis = redis.Redis.from_url(self._redis_url, socket_timeout=5)
        return self._redis.lock(f"{self._prefix}:lock:{account}", timeout=30,
                                blocking_timeout=self.lock_wait_s)
