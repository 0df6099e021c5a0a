"""What every channel shares about HTTP: the security headers every response carries (portal
pages, /app, the server root) and which proxy to believe about the client's address.

The portal's pages need nothing inline.  Gradio's pages at /app do: inline bootstrap
scripts and styles, and its HTML component compiles templates with ``Function()``
(so ``'unsafe-eval'``); everything is still confined to this origin (no third-party
script, style, font, image or connection; no framing by other sites; no plugins).

:class:`SecurityHeaders` (ASGI, added by run.py at the root) sets them on any response
that lacks them; the Flask portal sets the same ones itself (when run on its own).
"""
from __future__ import annotations

import ipaddress

from starlette.datastructures import MutableHeaders
from werkzeug.middleware.proxy_fix import ProxyFix

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
