"""``/sessions``: a camera at an exhibit records visitors.  Frames are analysed with the
engine's stream tracker (one per session, in memory: the portal's
:class:`portal.museum.recording.Recorder`, with its per-user and frame-rate limits) and only
per-face observations are stored, never the frames."""
from __future__ import annotations

import logging
import math

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile

import db
from db import museum, observations
from portal.accounts.tokens import exhibit_refusal
from portal.api.analyses import read_limited
from portal.api.context import ApiContext
from portal.api.deps import Ctx, CurrentGrant, CurrentUser
from portal.api.museum import refusals
from portal.api.schemas import FrameOut, Id, Session, SessionIn, SessionSummary, declared
from portal.api.visits import WRONG_CODES, link_session, visit_for
from portal.museum import roles
from portal.museum.frame_gate import ServerBusy
from portal.museum.recording import TooMany, finish_session, frame_faces
from realtime import ImageError, ImageTooLargeError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/sessions", tags=["recording sessions"])
NOT_FOUND = "session not found"
MAX_T = 7 * 24 * 3600.0


def _session_dict(sess) -> dict:
    return {"id": sess.id, "exhibit_id": sess.exhibit_id, "started_at": db.iso(sess.started_at),
            "stopped_at": db.iso(sess.stopped_at)}


def _running(user: db.User, session_id: int, feeding: bool = False):
    """The user's open session; ``feeding``: also one they may still record at (403 once its
    exhibit is archived or their role no longer allows recording)."""
    sess = observations.get_session(user.id, session_id)
    if sess is None:
        raise HTTPException(404, NOT_FOUND)
    if sess.stopped_at is not None:
        raise HTTPException(409, "this session has been stopped; start a new one")
    if feeding and museum.recordable_exhibit(user.id, sess.exhibit_id) is None:
        raise HTTPException(403, "recording at this exhibit is no longer allowed (it was archived, "
                                 "or you are no longer its organisation's owner or a manager); "
                                 "stop this session")
    return sess


@router.post("", status_code=201, response_model=Session, summary="Start recording at an exhibit",
             responses=declared(described={403: "a kiosk token of another exhibit",
                                           404: "no such exhibit, or a wrong, expired or other "
                                                "organisation's visit code", 429: WRONG_CODES}))
def start(body: SessionIn, request: Request, grant: CurrentGrant,
          ctx: Ctx):
    """A new session at an exhibit you may record at (the organisation's owner or a manager; a
    kiosk token: its own exhibit only)."""
    user = grant.user
    problem = exhibit_refusal(grant, body.exhibit_id)
    if problem:
        raise HTTPException(403, problem)
    with db.connection(), refusals():
        exhibit = roles.exhibit_for(user.id, body.exhibit_id, "record")  # 404, or 403 for a viewer
        visit = visit_for(body.visit_code, exhibit, request, ctx) if body.visit_code else None
        sess = observations.start_session(user.id, body.exhibit_id)
        if sess is not None and visit is not None:
            link_session(visit, sess)
    if sess is None:
        raise HTTPException(404, "exhibit not found (or archived)")
    log.info("recording session started session_id=%d exhibit_id=%d user_id=%d",
             sess.id, sess.exhibit_id, user.id)
    return _session_dict(sess)


@router.get("/{session_id}", response_model=Session)
def show(session_id: Id, user: CurrentUser):
    with db.connection():
        sess = observations.get_session(user.id, session_id)
    if sess is None:
        raise HTTPException(404, NOT_FOUND)
    return _session_dict(sess)


def _image_refused(exc: ImageError) -> HTTPException:
    if isinstance(exc, ImageTooLargeError):
        return HTTPException(413, f"the frame is too large: {exc}")
    return HTTPException(415, f"the frame cannot be read: {exc}; send a JPEG or PNG")


def _claim(ctx: ApiContext, user: db.User, sess):
    """The session's recording for this frame (429 past the user's sessions or frame rate)."""
    try:
        rec = ctx.recorder.claim(user.id, sess)
    except TooMany as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        raise HTTPException(429, str(exc), headers=headers) from exc
    if rec is None:
        raise HTTPException(409, "this session is being recorded by the live page or a kiosk; "
                                 "start a new session for this camera")
    return rec


def _track(ctx: ApiContext, rec, data: bytes, t: float) -> list[dict]:
    try:
        with ctx.frames.slot():  # at most FRAME_ANALYSES frames decoded and analysed at once
            decoded = ctx.frames.decode(data)
            with rec.lock:  # one frame of a session at a time, in order
                faces = ctx.recorder.tracked(rec, frame_faces(rec.stream.process(decoded)), t)
    except ImageError as exc:
        raise _image_refused(exc) from exc
    except ServerBusy as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": str(exc.retry_after)}) from exc
    ctx.recorder.store(rec, t, faces)
    return faces


@router.post("/{session_id}/frames", response_model=FrameOut, summary="Analyse one camera frame",
             responses=declared(415, described={
                 409: "the session was stopped (or the live page or a kiosk records it)",
                 413: "the frame is larger than FRAME_MAX_PIXELS (1920x1080) or API_MAX_FRAME_MB",
                 429: "too many frames (above API_MAX_FPS on average, or more than the burst at once) "
                      "or sessions; send the next frame after Retry-After",
                 503: "the server analyses FRAME_ANALYSES frames already: send again after Retry-After"}))
def frame(*, session_id: Id, image: UploadFile = File(..., description="JPEG or PNG frame"),
          t: float = Form(..., description="seconds since the session started"),
          user: CurrentUser, ctx: Ctx):
    """Faces with their track ids; each is stored as an observation (the frame is not).

    **Frame rate**: each session may send API_MAX_FPS frames a second on average (default 10) and
    bursts of up to 3 frames closer together than that (a token bucket, as the kiosk page), so a
    camera at its own pace with network jitter loses only what is above the average.  A frame
    beyond it gets 429 with ``Retry-After``; the frame is not analysed or stored."""
    if not math.isfinite(t) or not 0 <= t <= MAX_T:
        raise HTTPException(422, f"t must be seconds since the session started (0 to {MAX_T:.0f})")
    with db.connection():
        sess = _running(user, session_id, feeding=True)
    data = read_limited(image, ctx.museum.max_frame_bytes, "frame")
    try:
        ctx.frames.check(data)  # its size, from the header, before any decoding or rate check
    except ImageError as exc:
        raise _image_refused(exc) from exc
    faces = _track(ctx, _claim(ctx, user, sess), data, t)
    return {"t": t, "faces": faces}


@router.post("/{session_id}/stop", response_model=SessionSummary, summary="Stop and summarise",
             responses=declared(described={409: "the session was stopped already"}))
def stop(session_id: Id, user: CurrentUser,
         ctx: Ctx):
    """Duration (the last frame's ``t``), visitors (tracks), faces, median dwell time, emotion
    shares.  Breakdowns over fewer than ANALYTICS_MIN_VISITORS visitors are hidden."""
    with db.connection():
        sess = _running(user, session_id)
        summary = ctx.recorder.stop(user.id, sess.id)  # its tracker released; the camera's clock
        if summary is None:  # no frame since the start (or the tracker was idle): the server's clock
            summary = finish_session(sess, ctx.museum.min_visitors)
        return summary
