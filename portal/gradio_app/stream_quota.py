"""Each user's share of the webcam stream's concurrency slots, checked when a stream joins
Gradio's queue (``POST /app/gradio_api/queue/join``).

    app.add_middleware(StreamQuota, prefix="/app", user_id=lookup, blocks=interface,
                       concurrency_id="webcam", per_user=2)

An open stream holds one of the stream's slots (``max_streams`` for all users together) from
its join until it ends, also while it sends no frame. A join of the stream's event (found by
its ``concurrency_id`` in the Blocks, by ``fn_index`` or by API name) from an account that
already holds ``per_user`` open stream events gets 429; an event counts until Gradio's queue
lets go of it (time limit, stop, error) or its browser goes away (then it is closed here, which
also frees its slot: Gradio would keep it waiting for frames until the time limit). Runs behind
:class:`portal.gradio_app.guard.RequireUser`, so a user is known.

It also owns the stream's own routes: ``POST .../stream/{event_id}`` (a frame for the event)
and ``.../stream/{event_id}/close`` answer 404 unless the event is one of the caller's stream
events. Gradio checks only that the event exists: anyone holding another user's event id could
feed that stream frames or close it.
"""
from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable

import anyio
from gradio.data_classes import PredictBody
from pydantic import ValidationError
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from portal.analyses.shares import StreamSlots

log = logging.getLogger(__name__)


class StreamQuota:
    def __init__(self, app, prefix: str, user_id: Callable, blocks, concurrency_id: str, per_user: int):
        self.app, self.user_id = app, user_id
        api = prefix.rstrip("/") + "/gradio_api"
        self.join_path, self.call_prefix, self.stream_prefix = api + "/queue/join", api + "/call/", api + "/stream/"
        fns = [fn for fn in blocks.fns.values() if fn.concurrency_id == concurrency_id]
        if not fns:
            raise ValueError(f"no event with concurrency_id {concurrency_id!r} in the Blocks")
        self.fn_ids = {fn._id for fn in fns}
        self.api_names = {fn.api_name for fn in fns if fn.api_name}
        self.slots = StreamSlots(per_user, is_open=lambda event_id: _still_open(blocks, event_id))

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") == "POST" and scope["path"].startswith(self.stream_prefix):
            await self._stream_route(scope, receive, send)
            return
        if scope["type"] != "http" or scope.get("method") != "POST" or not self._joining(scope["path"]):
            await self.app(scope, receive, send)
            return
        body, receive = await _buffered(receive)
        if not self._stream_join(scope["path"], body):
            await self.app(scope, receive, send)
            return
        user = int(await anyio.to_thread.run_sync(self.user_id, HTTPConnection(scope)))
        token = self.slots.reserve(user)
        if token is None:
            log.info("webcam stream join refused: user %d holds %d streams", user, self.slots.per_user)
            detail = (f"You already have {self.slots.per_user} webcam streams open, the most one account "
                      "may run at once. Stop one (or close its tab) and try again.")
            await JSONResponse({"detail": detail}, status_code=429)(scope, receive, send)
            return
        await self._join(scope, receive, send, user, token)

    async def _stream_route(self, scope, receive, send) -> None:
        """A frame for, or the closing of, a stream event: the caller's own events only."""
        event_id = scope["path"][len(self.stream_prefix):].strip("/").removesuffix("/close")
        user = int(await anyio.to_thread.run_sync(self.user_id, HTTPConnection(scope)))
        if "/" in event_id or not self.slots.owns(user, event_id):
            log.info("stream route refused: user %d does not own stream event %.12s", user, event_id)
            await JSONResponse({"detail": "No such stream."}, status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _join(self, scope, receive, send, user: int, token: object) -> None:
        """Forward the join; the answer's event id takes the reserved slot (a refused join frees
        it). The slot is confirmed before the answer leaves, so the event's first frame, which the
        browser sends as soon as it has the id, finds it owned."""
        status, chunks, confirmed = [0], [], [False]

        async def watch(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                event_id = _event_id(b"".join(chunks)) if status[0] == 200 and not message.get("more_body") else None
                if event_id is not None:
                    self.slots.confirm(user, token, event_id)
                    confirmed[0] = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if not confirmed[0]:
                self.slots.cancel(user, token)

    def _joining(self, path: str) -> bool:
        return path.rstrip("/") == self.join_path or path.startswith(self.call_prefix)

    def _stream_join(self, path: str, body: bytes) -> bool:
        if path.rstrip("/") != self.join_path:
            return path[len(self.call_prefix):].strip("/") in self.api_names
        try:  # read as Gradio's route reads it ("5" is fn_index 5 there too)
            return PredictBody.model_validate(json.loads(body)).fn_index in self.fn_ids
        except (ValueError, ValidationError):
            return False  # Gradio refuses a malformed join itself


def _event_id(answer: bytes) -> str | None:
    try:
        event_id = json.loads(answer).get("event_id")
    except (ValueError, AttributeError):
        return None
    return event_id if isinstance(event_id, str) else None


def _still_open(blocks, event_id: str) -> bool:
    """Whether Gradio's queue still holds the stream event. One whose browser went away (its
    event stream disconnected: Gradio marks it not alive) would otherwise wait for its next
    frame, holding its slot, until the time limit: it is closed as ``/stream/{id}/close`` does."""
    event = blocks._queue.event_ids_to_events.get(event_id)
    if event is None:
        return False
    if not event.alive:
        event.run_time, event.closed = math.inf, True
        event.signal.set()
        return False
    return True


async def _buffered(receive) -> tuple[bytes, Callable]:
    """The request's body, and a ``receive`` that replays it to the app."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body, sent = b"".join(chunks), False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
