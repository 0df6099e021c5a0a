"""Refuse request bodies over a size limit with 413 before they are read (ASGI middleware)."""
from __future__ import annotations

import json

from starlette.exceptions import HTTPException


class BodyLimit:
    """413 ``{"detail": ...}`` for a declared Content-Length over ``max_bytes``; a body without
    one (chunked) is counted as it arrives and cut off the same way.

    ``large``: ``{(method, path): max_bytes}`` for upload routes with a limit of their own
    (videos); their bodies are never buffered here: the route streams them to disk while this
    middleware counts, and a body that grows past the limit ends in 413."""

    def __init__(self, app, max_bytes: int, large: dict[tuple[str, str], int] | None = None):
        self.app, self.max_bytes, self.large = app, max_bytes, dict(large or {})

    @staticmethod
    def _message(limit: int) -> str:
        return f"the request is too large; the limit is {limit / 1048576:.1f} MB"

    async def _refuse(self, send, limit: int | None = None) -> None:
        body = json.dumps({"detail": self._message(limit or self.max_bytes)}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        try:
            declared = int(length) if length is not None else None
        except ValueError:
            declared = None
        large = self._large_limit(scope)
        if large is not None:
            if declared is not None and declared > large:
                return await self._refuse(send, large)
            return await self.app(scope, self._counted(receive, large), send)
        if declared is not None and declared > self.max_bytes:
            return await self._refuse(send)
        if declared is not None:
            return await self.app(scope, receive, send)
        messages, size = [], 0
        while True:  # chunked: buffer up to the limit, then replay
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return await self._refuse(send)
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()
        return await self.app(scope, replay, send)

    def _large_limit(self, scope) -> int | None:
        path, root = scope.get("path", ""), scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        return self.large.get((scope.get("method", ""), path.rstrip("/") or "/"))

    def _counted(self, receive, limit: int):
        """``receive`` that raises 413 (an HTTPException the API answers as JSON) past ``limit``."""
        size = 0

        async def counted():
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if size > limit:
                raise HTTPException(413, self._message(limit))
            return message
        return counted
