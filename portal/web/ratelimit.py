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

import logging
import math
import time

from flask import Flask, g, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from portal.accounts.limits import LoginAttempts
from portal.museum.visits import hide_code
from portal.web.settings import portal_config

log = logging.getLogger(__name__)


def client_ip() -> str:
    return request.remote_addr or "unknown"



def _auth_failed(response) -> bool:
    return bool(g.get("auth_failed"))


def _user_key() -> str:
    from flask_login import current_user
    return f"password-check:{current_user.get_id()}"


def _apply_limits(app: Flask, limiter: Limiter) -> None:
    """Wrap the views that check a password (POST only)."""
    views = app.view_functions  # login failures: LoginAttempts (one counter per account, atomic)
    views["auth.register"] = limiter.limit(lambda: portal_config().register_limit, methods=["POST"],
                                           key_func=lambda: f"register:{client_ip()}")(views["auth.register"])
    recheck = limiter.shared_limit(lambda: portal_config().password_check_limit, scope="password-check",
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
