"""Each user's share of Gradio's upload route (``POST /app/gradio_api/upload``).

    app.add_middleware(UploadQuota, path="/app/gradio_api/upload", user_id=lookup,
                       max_body=settings.max_upload_bytes + 65536, per_minute=30)

Gradio's route takes any number of files (up to its ``max_file_size`` each) in one request,
with no quota. In front of it: the request must declare its length, at most ``max_body``
bytes (one photo and the form's overhead: 413 otherwise), and each user may upload
``per_minute`` times a minute (429 otherwise). Runs behind
:class:`portal.gradio_app.guard.RequireUser`, so a user is known.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from portal.analyses.shares import UploadShare

log = logging.getLogger(__name__)


class UploadQuota:
    def __init__(self, app, path: str, user_id: Callable, max_body: int, per_minute: int):
        self.app, self.path, self.user_id, self.max_body = app, path, user_id, max_body
        self.share = UploadShare(per_minute)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        refusal = self._refusal(conn.headers.get("content-length"))
        if refusal is None:
            user = await anyio.to_thread.run_sync(self.user_id, conn)
            if not self.share.admit(int(user)):
                refusal = (429, f"Too many uploads: at most {self.share.per_minute} a minute per "
                                "account. Please wait a moment.")
        if refusal is None:
            await self.app(scope, receive, send)
            return
        log.info("upload refused (%d): %s", refusal[0], refusal[1])
        await JSONResponse({"detail": refusal[1]}, status_code=refusal[0])(scope, receive, send)

    def _refusal(self, length: str | None) -> tuple[int, str] | None:
        if length is None or not length.isdigit():
            return 411, "An upload must declare its length."
        if int(length) > self.max_body:
            return 413, (f"The upload is too large ({int(length) / 1048576:.1f} MB); one photo of at "
                         f"most {(self.max_body - 65536) / 1048576:.0f} MB per upload.")
        return None
