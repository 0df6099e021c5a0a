"""``/analyses``: analyse a photo and store it (the web app's upload pipeline), list, fetch,
download and delete your own analyses."""
from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response

import db
from db import museum
from db.observations import attach_computation
from portal.analyses import service, storage
from portal.analyses.documents import content_disposition, download_name, json_document
from portal.analyses.pdf import build_pdf
from portal.analyses.service import AppError, UploadQuotaError
from portal.api.context import ApiContext
from portal.api.deps import Ctx, CurrentUser, OwnAnalysis
from portal.api.schemas import MAX_ID, Analysis, AnalysisPage, Id, declared
from realtime import ImageError, ImageTooLargeError, ModelError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/analyses", tags=["analyses"])
NOT_FOUND = "analysis not found"


def status_for(exc: AppError) -> int:
    """The HTTP status of an engine error the user can fix."""
    cause = exc.__cause__
    if isinstance(exc, UploadQuotaError):
        return 429
    if isinstance(cause, ImageTooLargeError):
        return 413
    if isinstance(cause, ImageError):
        return 415
    if isinstance(cause, ModelError):
        return 503
    return 422


def read_limited(upload: UploadFile, limit: int, what: str) -> bytes:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"the {what} is too large; the limit is {limit / 1048576:.1f} MB")
    if not data:
        raise HTTPException(422, f"the {what} is empty")
    return data


def _document(comp: db.Computation, user: db.User) -> dict:
    return json_document(db.computation_to_dict(comp), user.username)


def _analyse(ctx: ApiContext, user: db.User, data: bytes, **fields) -> dict:
    try:
        return service.analyse_photo(ctx.app, user.id, data, **fields).computation
    except AppError as exc:
        status = status_for(exc)
        raise HTTPException(status, str(exc), headers={"Retry-After": "60"} if status == 429 else None) from exc


@router.post("", status_code=201, response_model=Analysis, summary="Analyse a photo",
             responses=declared(415, 429, 503))
def create(*, image: UploadFile = File(..., description="JPEG, PNG, WebP or BMP"),
           title: str = Form("", max_length=200),
           exhibit_id: int | None = Form(None, ge=1, le=MAX_ID),
           notes: str = Form("", max_length=4000), consent: bool = Form(False),
           user: CurrentUser, ctx: Ctx):
    """Find and classify every face; store the photo and its result in your history (and, with
    ``exhibit_id``, its faces as observations of that exhibit).  Answers the JSON download."""
    exhibit = None
    if exhibit_id is not None:
        with db.connection():
            exhibit = museum.recordable_exhibit(user.id, exhibit_id)
        if exhibit is None:
            raise HTTPException(404, "exhibit not found, archived, or you may not add photos "
                                     "there (viewers only read)")
    data = read_limited(image, ctx.app.settings.max_upload_bytes, "image")
    comp = _analyse(ctx, user, data, title=title.strip() or "API upload",
                    exhibit=exhibit.name if exhibit else "", notes=notes, consent=consent)
    with db.connection():
        row = db.get_computation(user.id, comp["id"])
        if exhibit is not None:
            attach_computation(user.id, row, exhibit.id)
        return _document(row, user)


@router.get("", response_model=AnalysisPage, summary="Your analyses, newest first")
def index(*, page: int = Query(1, ge=1, le=100000), per_page: int = Query(20, ge=1, le=100),
          user: CurrentUser):
    with db.connection():
        listing = db.list_computations(user.id, page=page, per_page=per_page)
        items = [_document(c, user) for c in listing.items]
    return {"items": items, "total": listing.total, "page": listing.page,
            "per_page": listing.per_page, "pages": listing.pages}


@router.get("/{analysis_id}", response_model=Analysis)
def show(analysis: OwnAnalysis, user: CurrentUser):
    return _document(analysis, user)


@router.delete("/{analysis_id}", status_code=204, summary="Delete an analysis and its images")
def delete(analysis_id: Id, user: CurrentUser, ctx: Ctx):
    with db.connection():
        removed = service.delete(ctx.config.data_dir, user.id, analysis_id)
    if removed is None:
        raise HTTPException(404, NOT_FOUND)
    return Response(status_code=204)


@router.get("/{analysis_id}/image/{which}", response_class=FileResponse,
            responses={200: {"content": {"image/jpeg": {}}}})
def image(comp: OwnAnalysis, which: Literal["annotated", "original"], ctx: Ctx):
    stored = comp.annotated_path if which == "annotated" else comp.original_path
    path = storage.resolve(ctx.config.data_dir, stored)
    if path is None or not path.is_file():
        raise HTTPException(404, "this image is no longer stored")
    return FileResponse(path, headers={"Cache-Control": "private, no-store"})


@router.get("/{analysis_id}/json", responses={200: {"content": {"application/json": {}}}})
def download_json(analysis: OwnAnalysis, user: CurrentUser):
    doc = _document(analysis, user)
    return JSONResponse(doc, headers={
        "Content-Disposition": content_disposition(download_name(doc, "json"))})


@router.get("/{analysis_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def download_pdf(comp: OwnAnalysis, user: CurrentUser, ctx: Ctx):
    doc = db.computation_to_dict(comp)
    annotated = storage.resolve(ctx.config.data_dir, comp.annotated_path or comp.original_path)
    if annotated is not None and not annotated.is_file():
        annotated = None
    pdf = build_pdf(doc, annotated, username=user.username)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": content_disposition(download_name(doc, "pdf"))})
