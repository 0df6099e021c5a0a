"""An ASGI guard in front of the mounted Gradio app: no route under the prefix without a user.

Gradio's ``auth_dependency`` protects most of its routes, but not all (stream chunks,
heartbeat, cancel, static assets...). This middleware refuses *every* request under the
prefix unless ``user_id(request)`` names a user: page navigations are redirected to the
portal's login (and come back afterwards), everything else gets 401.
"""
from __future__ import annotations

import logging
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
