"""``/batches``: many photos (files and/or zips) analysed as one background job: one analysis
per photo (in ``/analyses`` and the History) plus a summary CSV.  Someone else's batch answers 404;
deleting a batch deletes its photos, their analyses and their exhibit observations."""
from __future__ import annotations

import logging

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

import db
from db import videos
from portal.api.deps import CurrentUser, Jobs
from portal.api.jobs import NO_JOBS
from portal.api.schemas import MAX_ID, Batch, Id, JobSubmitted, declared
from portal.api.videos import created, exhibit_of, job_status, page_of, refused, stored_file
from portal.jobs.uploads import UploadError, store_batch

log = logging.getLogger(__name__)
router = APIRouter(tags=["videos and jobs"], responses=NO_JOBS)
NOT_FOUND = "batch not found"


@router.post("/batches", status_code=202, response_model=JobSubmitted, summary="Analyse many photos (a job)",
             responses=declared(415, 429))
def upload_batch(*, photos: list[UploadFile] = File(..., description="photos and/or zip files of photos"),
                 exhibit_id: int | None = Form(None, ge=1, le=MAX_ID), title: str = Form("", max_length=200),
                 notes: str = Form("", max_length=4000), consent: bool = Form(False),
                 user: CurrentUser, service: Jobs):
    """One analysis per photo (in your history) plus a summary CSV; poll ``GET /jobs/{job_id}``.
    With ``exhibit_id`` each photo's faces feed that exhibit's analytics."""
    exhibit = exhibit_of(user, exhibit_id)
    files = [(f.filename or "", f.file) for f in photos]
    try:
        batch, job = store_batch(service.settings, user.id, files, title=title,
                                 exhibit=exhibit.name if exhibit else "", exhibit_id=exhibit_id,
                                 notes=notes, consent=consent)
    except UploadError as exc:
        raise refused(exc) from None
    service.submit(job.id)
    log.info("photo batch uploaded via API user_id=%d batch_id=%d job_id=%d", user.id, batch.id, job.id)
    return {"job_id": job.id, "batch_id": batch.id}


def own_batch(user: db.User, batch_id: int) -> videos.Batch:
    with db.connection():
        batch = videos.get_batch(batch_id, user.id)
    if batch is None:
        raise HTTPException(404, NOT_FOUND)
    return batch


class BatchBrief(BaseModel):
    """A photo batch in a listing: ``GET /batches/{id}`` for its analyses."""
    id: int
    job_id: int | None
    status: str | None
    created_at: str
    title: str
    exhibit_id: int | None
    photos: int


class BatchPage(BaseModel):
    items: list[BatchBrief]
    total: int
    page: int
    per_page: int
    pages: int


@router.get("/batches", response_model=BatchPage, summary="Your photo batches, newest first")
def index(*, page: int = Query(1, ge=1, le=100000), per_page: int = Query(20, ge=1, le=100),
          user: CurrentUser):
    with db.connection():
        listing = videos.page_batches(user.id, page=page, per_page=per_page)
    items = [{"id": b.id, "job_id": b.job_id, "status": job_status(b), "created_at": created(b),
              "title": b.title, "exhibit_id": b.exhibit_id, "photos": b.photos} for b in listing.items]
    return page_of(listing, items)


@router.get("/batches/{batch_id}", response_model=Batch, summary="A photo batch and its analyses")
def show(batch_id: Id, user: CurrentUser):
    """``analyses``: one per photo analysed so far (``GET /analyses/{analysis_id}`` for its faces)."""
    batch = own_batch(user, batch_id)
    with db.connection():
        items = [{"name": i.name, "analysis_id": i.computation_id} for i in videos.batch_items(batch.id)]
    return {"id": batch.id, "job_id": batch.job_id, "status": job_status(batch),
            "created_at": created(batch), "title": batch.title,
            "exhibit_id": batch.exhibit_id, "notes": batch.notes, "consent": batch.consent,
            "photos": batch.photos, "analyses": items}


@router.get("/batches/{batch_id}/summary.csv", response_class=FileResponse,
            responses={200: {"content": {"text/csv": {}}}})
def summary_csv(batch_id: Id, user: CurrentUser, service: Jobs):
    """One row per face (or per photo without a face / with an error): photo, status, face, box,
    emotion, confidence, 7 probabilities."""
    batch = own_batch(user, batch_id)
    return FileResponse(stored_file(service, batch.summary_csv_path, "summary", "batch"), media_type="text/csv",
                        filename=f"batch-{batch.id}-summary.csv", headers={"Cache-Control": "private, no-store"})


@router.delete("/batches/{batch_id}", status_code=204, summary="Delete a batch, its photos and analyses")
def delete(batch_id: Id, user: CurrentUser, service: Jobs):
    if not service.delete_batch(user.id, batch_id):  # analyses and their observations go too
        raise HTTPException(404, NOT_FOUND)
    log.info("photo batch deleted via API user_id=%d batch_id=%d", user.id, batch_id)
    return Response(status_code=204)
