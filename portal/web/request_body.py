"""Whole request bodies before the portal sees them: slow clients cannot hold its threads.

The Flask portal runs in a2wsgi's thread pool (10 threads).  A WSGI app reads its body with
blocking calls, so a client that announces ``Content-Length: 1000`` and sends 7 bytes held one
thread for as long as it liked: ten such clients froze every portal page, the kiosks and
``/healthz`` (issue 18).  :class:`BufferedBody` sits in front of the a2wsgi mount and receives
the whole body in the event loop first (which waits on thousands of connections at no cost):
in memory up to ``memory_bytes``, above that in an unnamed temporary file (``spool_dir``,
removed by the system when closed, also after a crash).  Only a complete body is handed to
the WSGI app, which then reads it at memory/disk speed.

* a body that pauses longer than ``timeout_s``, or averages less than ``min_rate`` bytes/s
  once it has taken ``timeout_s``, gets **408** (and the connection is closed);
* a body larger than ``max_body(path)`` gets **413**, at once when its ``Content-Length``
  says so, else as soon as it has sent that much.

Requests without a body (no ``Content-Length``, or 0, and no ``Transfer-Encoding``) go
straight through.  Configured by ``BODY_TIMEOUT`` / ``BODY_MIN_RATE`` (portal/config.py).
"""
from __future__ import annotations

import asyncio
import logging
import tempfile
from typing import Callable

log = logging.getLogger(__name__)

MEMORY_BYTES = 256 * 1024  # bodies above this are spooled to a temporary file
CHUNK = 256 * 1024  # what the WSGI app gets per receive()


class Refused(Exception):
    """The body cannot be accepted: ``status`` (408, 413) and a message for the client."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _header(scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


def _declared_length(scope) -> int | None:
    raw = _header(scope, b"content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None  # h11 refuses malformed lengths before we are called


def has_body(scope) -> bool:
    return bool(_declared_length(scope)) or _header(scope, b"transfer-encoding") is not None


async def refuse(send, status: int, message: str) -> None:
    """A short plain-text answer that also closes the connection (the body is not read)."""
    body = (message + "\n").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def too_large(limit: int) -> Refused:
    return Refused(413, f"The request is too large: at most {limit / 2**20:.0f} MB may be sent here.")


class BufferedBody:
    """ASGI middleware: receive the whole body (bounded in time and size), then call ``app``."""

    def __init__(self, app, *, max_body: Callable[[str], int], timeout_s: float, min_rate: float,
                 spool_dir=None, memory_bytes: int = MEMORY_BYTES):
        self.app, self.max_body, self.timeout_s, self.min_rate = app, max_body, timeout_s, min_rate
        self.spool_dir, self.memory_bytes = spool_dir, memory_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not has_body(scope):
            return await self.app(scope, receive, send)
        limit = self.max_body(scope["path"])
        try:
            declared = _declared_length(scope)
            if declared is not None and declared > limit:
                raise too_large(limit)
            body = await self.read(receive, limit)
        except Refused as exc:
            log.warning("request body refused (%d): %s %s from %s: %s", exc.status, scope["method"],
                        scope["path"], (scope.get("client") or ("?",))[0], exc)
            return await refuse(send, exc.status, str(exc))
        if body is None:  # the client went away
            return None
        spool, size = body
        try:
            await self.app(scope, replay(spool, size, receive), send)
        finally:
            spool.close()

    async def read(self, receive, limit: int):
        """``(spooled file at 0, size)``, or None when the client disconnected; raises Refused."""
        spool = tempfile.SpooledTemporaryFile(max_size=self.memory_bytes, dir=self.spool_dir)
        loop = asyncio.get_running_loop()
        start, size = loop.time(), 0
        try:
            while True:
                message = await self._next(receive, loop.time() - start, size)
                if message["type"] == "http.disconnect":
                    spool.close()
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                spool.write(chunk)
                if not message.get("more_body", False):
                    spool.seek(0)
                    return spool, size
        except BaseException:
            spool.close()
            raise

    async def _next(self, receive, elapsed: float, size: int):
        if elapsed > self.timeout_s and size < self.min_rate * elapsed:
            raise Refused(408, f"The request body arrived too slowly ({size} bytes in {elapsed:.0f} s; "
                               f"at least {self.min_rate:.0f} bytes per second are needed). Send it again.")
        try:
            async with asyncio.timeout(self.timeout_s):
                return await receive()
        except TimeoutError:
            raise Refused(408, f"The request body stopped arriving (nothing for {self.timeout_s:g} s). "
                               "Send it again.") from None


def replay(spool, size: int, receive):
    """An ASGI ``receive`` that hands out the spooled body, then defers to the real one."""
    state = {"sent": 0, "done": False}

    async def replayed():
        if state["done"]:
            return await receive()  # e.g. http.disconnect
        data = spool.read(CHUNK)
        state["sent"] += len(data)
        state["done"] = state["sent"] >= size
        return {"type": "http.request", "body": data, "more_body": not state["done"]}
    return replayed
