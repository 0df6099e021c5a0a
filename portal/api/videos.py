"""``/videos``: upload a video to be analysed as a background job, fetch the result (timeline,
tracks), download the CSV and the annotated MP4, delete.  The upload functions are the portal
page's (:mod:`portal.jobs.uploads`); someone else's video answers 404.  Photo batches:
:mod:`.batches`."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

import db
from db import jobs as job_rows
from db import museum, videos
from portal.analyses import storage
from portal.api.deps import CurrentUser, Jobs
from portal.api.jobs import NO_JOBS
from portal.api.schemas import MAX_ID, Id, JobSubmitted, Video, declared
from portal.jobs.service import JobService
from portal.jobs.uploads import UploadError, store_video
from realtime import load_result

log = logging.getLogger(__name__)
router = APIRouter(tags=["videos and jobs"], responses=NO_JOBS)
NOT_FOUND = "video not found"
FORM_OVERHEAD = 64 * 1024  # the other form fields and the multipart boundaries
STATUS = {"format": 415, "size": 413, "invalid": 422, "busy": 429, "gone": 409}


def upload_limits(service: JobService | None) -> dict[tuple[str, str], int]:
    """The request-size limits of the upload routes (VIDEO_MAX_MB), for :class:`.limits.BodyLimit`."""
    if service is None:
        return {}
    limit = service.settings.video_limits.max_bytes + FORM_OVERHEAD
    return {("POST", "/videos"): limit, ("POST", "/batches"): limit}


def exhibit_of(user: db.User, exhibit_id: int | None):
    """One of the user's organisations' (non-archived) exhibits, or 404."""
    if exhibit_id is None:
        return None
    with db.connection():
        exhibit = museum.recordable_exhibit(user.id, exhibit_id)
    if exhibit is None:
        raise HTTPException(404, "exhibit not found, archived, or you may not add videos there "
                                 "(viewers only read)")
    return exhibit


def refused(exc: UploadError) -> HTTPException:
    return HTTPException(STATUS.get(exc.reason, 422), str(exc))


@router.post("/videos", status_code=202, response_model=JobSubmitted, summary="Analyse a video (a job)",
             responses=declared(415, 429))
def upload(*, video: UploadFile = File(..., description="MP4, MOV, WebM, MKV or AVI"),
           exhibit_id: int | None = Form(None, ge=1, le=MAX_ID), title: str = Form("", max_length=200),
           notes: str = Form("", max_length=4000), consent: bool = Form(False),
           sample_fps: float | None = Form(None, gt=0, le=240, description="empty: every frame"),
           preset: Literal["auto", "default", "close", "room"] = Form(
               "auto", description="auto: the detector is chosen from the faces' sizes in the first seconds"),
           user: CurrentUser, service: Jobs):
    """Store the video and queue its analysis; poll ``GET /jobs/{job_id}``.  Refused at once
    (nothing stored): not a video (415), over VIDEO_MAX_MB / VIDEO_MAX_SECONDS (413)."""
    exhibit = exhibit_of(user, exhibit_id)
    try:
        row, job = store_video(service.settings, user.id, video.file, video.filename or "", title=title,
                               exhibit=exhibit.name if exhibit else "", exhibit_id=exhibit_id, notes=notes,
                               consent=consent, sample_fps=sample_fps, preset=preset)
    except UploadError as exc:
        raise refused(exc) from None
    service.submit(job.id)
    log.info("video uploaded via API user_id=%d video_id=%d job_id=%d", user.id, row.id, job.id)
    return {"job_id": job.id, "video_id": row.id}


def own_video(user: db.User, video_id: int) -> videos.Video:
    with db.connection():
        video = videos.get_video(video_id, user.id)
    if video is None:
        raise HTTPException(404, NOT_FOUND)
    return video


def job_status(row: videos.Video | videos.Batch) -> str | None:
    """The status of a video's or batch's job (None: it has none)."""
    with db.connection():
        job = job_rows.get_job(row.job_id) if row.job_id else None
    return job.status if job else None


def stored_file(service: JobService, stored: str, what: str, owner: str = "video") -> Path:
    path = storage.resolve(service.settings.data_dir, stored) if stored else None
    if path is None or not path.is_file():
        raise HTTPException(404, f"the {what} does not exist (yet): the {owner} has not been analysed")
    return path


class VideoBrief(BaseModel):
    """A video in a listing: ``GET /videos/{id}`` for its tracks and timeline."""
    id: int
    job_id: int | None
    status: str | None
    created_at: str
    title: str
    filename: str
    exhibit_id: int | None
    preset: str
    duration_s: float | None
    frames: int | None
    dominant_emotion: str | None


class VideoPage(BaseModel):
    items: list[VideoBrief]
    total: int
    page: int
    per_page: int
    pages: int


def page_of(listing, items: list) -> dict:
    """The pagination fields of ``GET /analyses``, ``/videos`` and ``/batches``."""
    return {"items": items, "total": listing.total, "page": listing.page, "per_page": listing.per_page,
            "pages": listing.pages}


def created(row) -> str:
    return db.iso(row.created_at)


@router.get("/videos", response_model=VideoPage, summary="Your videos, newest first")
def index(*, page: int = Query(1, ge=1, le=100000), per_page: int = Query(20, ge=1, le=100),
          user: CurrentUser):
    fields = ("id", "job_id", "title", "filename", "exhibit_id", "preset", "duration_s", "frames",
              "dominant_emotion")
    with db.connection():
        listing = videos.page_videos(user.id, page=page, per_page=per_page)
    items = [{**{k: getattr(v, k) for k in fields}, "status": job_status(v), "created_at": created(v)}
             for v in listing.items]
    return page_of(listing, items)


@router.get("/videos/{video_id}", response_model=Video, summary="A video, its tracks and timeline")
def show(video_id: Id, user: CurrentUser, service: Jobs):
    """The analysis fields, ``tracks`` and ``timeline`` are filled once the job is ``done``."""
    video = own_video(user, video_id)
    status = job_status(video)
    doc = load_result(stored_file(service, video.result_path, "result")) if status == "done" else {}
    fields = ("id", "job_id", "title", "filename", "exhibit_id", "notes", "consent", "sample_fps", "preset",
              "duration_s", "fps", "width", "height", "frames", "frames_analysed", "dominant_emotion")
    return {**{k: getattr(video, k) for k in fields}, "status": status,
            "created_at": created(video), "tracks": doc.get("tracks", []), "timeline": doc.get("timeline", []),
            "detector_choice": doc.get("detector_choice")}


@router.get("/videos/{video_id}/timeline.csv", response_class=FileResponse,
            responses={200: {"content": {"text/csv": {}}}})
def timeline_csv(video_id: Id, user: CurrentUser, service: Jobs):
    """One row per face per analysed frame: t, frame, track_id, x, y, w, h, emotion, 7 probabilities."""
    video = own_video(user, video_id)
    return FileResponse(stored_file(service, video.csv_path, "timeline"), media_type="text/csv",
                        filename=f"video-{video.id}-timeline.csv", headers={"Cache-Control": "private, no-store"})


@router.get("/videos/{video_id}/annotated.mp4", response_class=FileResponse,
            responses={200: {"content": {"video/mp4": {}}}})
def annotated(video_id: Id, user: CurrentUser, service: Jobs):
    """The annotated H.264 MP4 (range requests supported, for seeking)."""
    video = own_video(user, video_id)
    return FileResponse(stored_file(service, video.annotated_path, "annotated video"), media_type="video/mp4",
                        headers={"Cache-Control": "private, no-store"})


@router.delete("/videos/{video_id}", status_code=204, summary="Delete a video, its files and observations")
def delete(video_id: Id, user: CurrentUser, service: Jobs):
    if not service.delete_video(user.id, video_id):  # its observations go with it (cascade)
        raise HTTPException(404, NOT_FOUND)
    log.info("video deleted via API user_id=%d video_id=%d", user.id, video_id)
    return Response(status_code=204)
