"""Rate limits (Flask-Limiter) and which client address to trust.

Login failures are counted three ways, so that the owner of an account is not
locked out by someone else guessing its password:

* per client IP + login name (``LOGIN_LIMIT``, strict: 5 per 15 minutes) - the
  owner, from their own address, is never blocked by failures from elsewhere;
* per login name from anywhere (``LOGIN_USER_LIMIT``, slow: 50 per hour) - a
  guesser with many addresses is slowed down;
* per client IP for any name (``LOGIN_IP_LIMIT``: 100 per hour) - one address
  trying many accounts.

Only *failed* attempts count, one counter per account for the login form and the API's
``POST /token`` (:class:`LoginAttempts`, checked and counted atomically).  Registration
counts every attempt per IP (``REGISTER_LIMIT``); the password re-checks on
``/account/password``, ``/account/delete`` and ``/account/tokens`` count wrong passwords per user
(``PASSWORD_CHECK_LIMIT``).  The counters live in Redis when ``REDIS_URL`` is
set (shared by every server process), in memory otherwise (one process).

The client address is ``request.remote_addr``: the TCP peer.  Proxy headers
(``X-Forwarded-For``/``-Proto``) are believed only when ``PROXY_COUNT`` > 0,
and then only from the peers listed in ``TRUSTED_PROXIES`` (see
:class:`TrustedProxyFix`).
"""
from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
import zlib

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.museum.visits import hide_code

log = logging.getLogger(__name__)


def client_ip() -> str:
    return request.remote_addr or "unknown"


def _cfg():
    return current_app.config["PORTAL"]


def _auth_failed(response) -> bool:
    return bool(g.get("auth_failed"))


def _user_key() -> str:
    from flask_login import current_user
    return f"password-check:{current_user.get_id()}"


def _apply_limits(app: Flask, limiter: Limiter) -> None:
    """Wrap the views that check a password (POST only)."""
    views = app.view_functions  # login failures: LoginAttempts (one counter per account, atomic)
    views["auth.register"] = limiter.limit(lambda: _cfg().register_limit, methods=["POST"],
                                           key_func=lambda: f"register:{client_ip()}")(views["auth.register"])
    recheck = limiter.shared_limit(lambda: _cfg().password_check_limit, scope="password-check",
                                   methods=["POST"], deduct_when=_auth_failed, key_func=_user_key)
    for endpoint in ("account.password", "account.delete", "tokens.index"):
        views[endpoint] = recheck(views[endpoint])


def wait_message(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (f"Too many failed attempts. Try again in about {minutes} minute"
            f"{'s' if minutes != 1 else ''}.")


def init_app(app: Flask, config) -> Limiter:
    """A limiter for ``app`` (call after the blueprints are registered)."""
    limiter = Limiter(key_func=client_ip, app=app, strategy="moving-window",
                      storage_uri=config.redis_url or "memory://",
                      key_prefix=config.ratelimit_prefix, headers_enabled=True)
    _apply_limits(app, limiter)
    app.extensions["portal_limiter"] = limiter
    app.extensions["login_attempts"] = LoginAttempts(config)  # shared with the API's POST /token

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc):
        from portal.web.errors import render_error
        current = limiter.current_limit
        wait = max(0.0, current.reset_at - time.time()) if current else 60.0
        log.warning("rate limit reached on %s %s (%s)", request.method, hide_code(request.path), exc.description)
        body, code = render_error(429, wait_message(wait))
        return body, code, {"Retry-After": str(math.ceil(wait))}
    return limiter


def proxy_networks(trusted: tuple[str, ...]) -> list:
    return [ipaddress.ip_network(t.strip(), strict=False) for t in trusted if t.strip()]


def peer_trusted(peer: str | None, networks: list) -> bool:
    """Whether ``peer`` is one of the proxies (no networks: any peer is)."""
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        return False
    return any(address in net for net in networks)


def forwarded_client(peer: str, forwarded_for: str | None, proxy_count: int, networks: list) -> str:
    """The client address the way :class:`TrustedProxyFix` sees it, for the ASGI side (the JSON
    API): the ``proxy_count``-th ``X-Forwarded-For`` entry from the right, only from a trusted peer."""
    if proxy_count <= 0 or not forwarded_for or not peer_trusted(peer, networks):
        return peer
    values = forwarded_for.split(",")
    return values[-proxy_count].strip() if len(values) >= proxy_count else peer


class TrustedProxyFix:
    """WSGI: believe ``X-Forwarded-For``/``-Proto``/``-Host`` only from trusted peers.

    ``proxy_count`` proxies are in front (werkzeug's :class:`ProxyFix` takes that many
    entries from the right of each header); ``trusted`` lists the proxies' own addresses
    or networks (empty: any peer - only safe when the app port is not reachable except
    through the proxy).  With ``proxy_count`` 0 the headers are ignored.
    """

    def __init__(self, app, proxy_count: int, trusted: tuple[str, ...] = ()):
        self.app = app
        self.fixed = ProxyFix(app, x_for=proxy_count, x_proto=proxy_count, x_host=proxy_count)
        self.networks = proxy_networks(trusted)

    def __call__(self, environ, start_response):
        if peer_trusted(environ.get("REMOTE_ADDR"), self.networks):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


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
