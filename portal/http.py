"""The security headers every response carries (portal pages, /app, the server root).

The portal's pages need nothing inline.  Gradio's pages at /app do: inline bootstrap
scripts and styles, and its HTML component compiles templates with ``Function()``
(so ``'unsafe-eval'``); everything is still confined to this origin (no third-party
script, style, font, image or connection; no framing by other sites; no plugins).

:class:`SecurityHeaders` (ASGI, added by run.py at the root) sets them on any response
that lacks them; the Flask portal sets the same ones itself (when run on its own).
"""
from __future__ import annotations

from starlette.datastructures import MutableHeaders

PORTAL_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
              "object-src 'none'; frame-ancestors 'self'; form-action 'self'; base-uri 'self'")
APP_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
           "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
           "media-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
           "worker-src 'self' blob:; object-src 'none'; frame-ancestors 'self'; "
           "form-action 'self'; base-uri 'self'")
# The API's Swagger page (FastAPI's HTML) starts Swagger UI with one inline script; its assets are
# served by this origin. It shows no user data of its own (requests carry the user's bearer token).
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'self'; "
            "form-action 'self'; base-uri 'self'")
COMMON = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN",
          "Referrer-Policy": "same-origin"}


def security_headers(path: str, app_prefix: str = "/app") -> dict[str, str]:
    under_app = path == app_prefix or path.startswith(app_prefix + "/")
    return {**COMMON, "Content-Security-Policy": APP_CSP if under_app else PORTAL_CSP}


class SecurityHeaders:
    """ASGI middleware: :func:`security_headers` on every HTTP response that lacks them."""

    def __init__(self, app, app_prefix: str = "/app"):
        self.app = app
        self.app_prefix = app_prefix

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = security_headers(scope.get("path", ""), self.app_prefix)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
