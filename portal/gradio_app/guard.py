"""An ASGI guard in front of the mounted Gradio app: no route under the prefix without a user.

Gradio's ``auth_dependency`` protects most of its routes, but not all (stream chunks,
heartbeat, cancel, static assets...). This middleware refuses *every* request under the
prefix unless ``user_id(request)`` names a user: page navigations are redirected to the
portal's login (and come back afterwards), everything else gets 401.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import quote

import anyio
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse

log = logging.getLogger(__name__)


class RequireUser:
    def __init__(self, app, prefix: str, user_id: Callable, login_url: str = "/login"):
        self.app = app
        self.prefix = prefix.rstrip("/")
        self.user_id = user_id
        self.login_url = login_url

    def _guarded(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket") or not self._guarded(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        try:
            user = await anyio.to_thread.run_sync(self.user_id, conn)
        except Exception:
            log.exception("session check failed")
            user = None
        if user is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        log.info("anonymous request refused: %s %s", scope.get("method"), scope.get("path"))
        accept = conn.headers.get("accept", "")
        if scope.get("method") == "GET" and "text/html" in accept:
            target = scope["path"] + (f"?{scope['query_string'].decode()}" if scope.get("query_string") else "")
            response = RedirectResponse(f"{self.login_url}?next={quote(target, safe='')}", status_code=303)
        else:
            response = JSONResponse({"detail": "Not authenticated: log in to the portal first."},
                                    status_code=401)
        await response(scope, receive, send)


class CachedUserLookup:
    """Remembers ``user_id(request)`` per cookie set for ``ttl`` seconds.

    A webcam stream makes ~20 requests a second, each checked twice (this guard and
    Gradio's own dependency); without a cache each check verifies the session and reads
    the user row. A changed cookie (log-out, another user) misses the cache at once, and
    so does every cookie when ``epoch()`` changes (``portal.web.users.token_epoch``: a token was
    rotated by a log-out or password change, so a replayed old cookie is checked afresh).
    """

    def __init__(self, user_id: Callable, ttl: float = 2.0, max_entries: int = 1024,
                 epoch: Callable[[], int] = lambda: 0):
        self.user_id = user_id
        self.epoch = epoch
        self.ttl = ttl
        self.max_entries = max_entries
        self._cache: dict[tuple, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def __call__(self, request):
        key = (self.epoch(), *sorted(request.cookies.items()))
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1]
        user = self.user_id(request)
        with self._lock:
            if len(self._cache) >= self.max_entries:
                self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self.ttl}
            self._cache[key] = (now, user)
        return user
