"""Videos and photo batches (issue 12): upload, progress, results, downloads, deletion.

Pages under ``/videos``; the work runs as jobs (``portal.jobs``): the page polls
``/videos/jobs/<id>.json`` (static script) while a job runs. Every route checks the owner:
someone else's video, batch or job answers 404.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import (Blueprint, Flask, abort, current_app, flash, jsonify, redirect, render_template, request, send_file,
                   url_for)
from flask_login import current_user, login_required

from db import jobs, museum, videos
from db.museum import CONTRIBUTOR_ROLES
from portal.analyses import storage
from portal.analyses.documents import file_name
from portal.jobs.service import JobService
from portal.jobs.settings import JobSettings
from portal.jobs.uploads import UploadError, store_batch, store_video
from portal.web.confirm import confirm_page, confirmed
from portal.web.forms import PostForm
from realtime import iter_timeline_csv, load_summary

log = logging.getLogger(__name__)
bp = Blueprint("videos", __name__, url_prefix="/videos")

PRESET_LABELS = {"auto": "Automatic (chosen from the faces' sizes in the first seconds)",
                 "default": "Standard (people within a few metres)", "close": "Close-up (one or two large faces, fastest)",
                 "room": "Room camera (small, distant faces; slower)"}


def init_jobs(app: Flask, config) -> JobService:
    """Create the job service (embedded pool or Celery), recover interrupted jobs, register the pages."""
    service = JobService(JobSettings.from_config(config))
    app.extensions["jobs"] = service
    resumed = service.start()
    if resumed:
        log.info("resumed %d queued job(s) at start-up", len(resumed))
    app.register_blueprint(bp)
    return service


def _service() -> JobService:
    return current_app.extensions["jobs"]


def _own_video(video_id: int) -> videos.Video:
    video = videos.get_video(video_id, current_user.id)
    if video is None:
        abort(404)
    return video


def _file(stored: str) -> Path:
    path = storage.resolve(_service().settings.data_dir, stored)
    if path is None or not path.is_file():
        abort(404)
    return path


def download_name(video: videos.Video, ext: str) -> str:
    """``video-<id>-<title slug>-<YYYYmmdd-HHMM>.<ext>`` (:func:`portal.analyses.documents.file_name`)."""
    return file_name("video", video.id, video.title, video.created_at, ext, "video")


@bp.before_request
def _upload_limit():
    settings = _service().settings
    if request.method == "POST" and request.endpoint in ("videos.upload", "videos.upload_batch"):
        request.max_content_length = settings.video_limits.max_bytes + 1024 * 1024


@bp.get("")
@login_required
def index():
    settings = _service().settings
    return render_template("videos.html", videos=videos.list_videos(current_user.id),
                           batches=videos.list_batches(current_user.id), exhibits=museum.list_exhibits(current_user.id, roles=CONTRIBUTOR_ROLES),
                           presets=PRESET_LABELS, form=PostForm(), max_mb=settings.video_limits.max_bytes / 2**20,
                           max_minutes=settings.video_limits.max_duration_s / 60, max_photos=settings.batch_max_photos)


def _sample_fps() -> float | None:
    raw = (request.form.get("sample_fps") or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise UploadError(f"frames analysed per second must be a number, not '{raw[:20]}'") from None


def _exhibit() -> dict:
    """``exhibit_id`` (one of the user's organisations' exhibits: its faces feed that exhibit's
    analytics) and ``exhibit`` (free text, else the exhibit's name) from the form."""
    raw, text = (request.form.get("exhibit_id") or "").strip(), request.form.get("exhibit", "").strip()
    if not raw:
        return {"exhibit_id": None, "exhibit": text}
    exhibit = museum.recordable_exhibit(current_user.id, raw)
    if exhibit is None:
        raise UploadError("that exhibit is not available (archived, not one of your organisations', "
                          "or you are a viewer there): choose another one, or none")
    return {"exhibit_id": exhibit.id, "exhibit": text or exhibit.name}


@bp.post("")
@login_required
def upload():
    file = request.files.get("video")
    if file is None or not file.filename:
        flash("Choose a video file to upload.", "error")
        return redirect(url_for("videos.index"))
    form = request.form
    try:
        video, job = store_video(
            _service().settings, current_user.id, file.stream, file.filename, title=form.get("title", ""),
            **_exhibit(), notes=form.get("notes", ""), consent=bool(form.get("consent")),
            sample_fps=_sample_fps(), preset=form.get("preset") or "auto")
    except UploadError as exc:
        flash(str(exc), "error")
        return redirect(url_for("videos.index"))
    _service().submit(job.id)
    log.info("video uploaded user_id=%d video_id=%d job_id=%d", current_user.id, video.id, job.id)
    return redirect(url_for("videos.detail", video_id=video.id))


@bp.get("/<int:video_id>")
@login_required
def detail(video_id: int):
    video = _own_video(video_id)
    job = jobs.get_job(video.job_id) if video.job_id else None
    doc = load_summary(_file(video.result_path)) if job is not None and job.status == "done" else None
    return render_template("video.html", video=video, job=job, doc=doc, form=PostForm(),
                           preset_label=PRESET_LABELS.get(video.preset, video.preset), presets=PRESET_LABELS)


@bp.get("/jobs/<int:job_id>.json")
@login_required
def job_status(job_id: int):
    job = jobs.get_job(job_id, current_user.id)
    if job is None:
        abort(404)
    return jsonify({k: v for k, v in jobs.job_to_dict(job).items()
                    if k in ("id", "status", "progress", "error", "attempts", "worker")})


@bp.post("/jobs/<int:job_id>/<any(cancel, retry):action>")
@login_required
def job_action(job_id: int, action: str):
    job = jobs.get_job(job_id, current_user.id)
    if job is None:
        abort(404)
    try:
        ok = _service().cancel(current_user.id, job.id) if action == "cancel" else _service().retry(current_user.id, job.id)
        flash({("cancel", True): "The job was cancelled.", ("retry", True): "The job was queued again.",
               ("cancel", False): "The job had already ended.",
               ("retry", False): "Only a failed or cancelled job can be retried."}[(action, ok)], "info")
    except UploadError as exc:  # a retry refused: too many jobs waiting, or the batch's photos are gone
        flash(str(exc), "error")
    target = job.params.get("video_id")
    if target is not None:
        return redirect(url_for("videos.detail", video_id=target))
    return redirect(url_for("videos.batch", batch_id=job.params.get("batch_id", 0)))


@bp.get("/<int:video_id>/<any(annotated.mp4, result.json, timeline.csv):name>")
@login_required
def download(video_id: int, name: str):
    video = _own_video(video_id)
    stored = {"annotated.mp4": video.annotated_path, "result.json": video.result_path,
              "timeline.csv": video.csv_path}[name]
    path = _file(stored)
    mimetype = {"mp4": "video/mp4", "json": "application/json", "csv": "text/csv"}[name.rsplit(".", 1)[1]]
    inline = name == "annotated.mp4" and not request.args.get("download")
    return send_file(path, mimetype=mimetype, conditional=True, max_age=0, as_attachment=not inline,
                     download_name=download_name(video, name.rsplit(".", 1)[1]))


def _chart_file(video: videos.Video, fmt: str) -> Path:
    """The timeline chart, drawn once and kept in the video's folder (removed with it)."""
    from portal.jobs.video_chart import timeline_chart

    path = Path(_service().settings.data_dir) / video.folder / f"timeline.{fmt}"
    if not path.is_file():
        path.write_bytes(timeline_chart(load_summary(_file(video.result_path)), iter_timeline_csv(_file(video.csv_path)),
                                        fmt=fmt))
    return path


@bp.get("/<int:video_id>/timeline.svg")
@login_required
def chart(video_id: int):
    video = _own_video(video_id)
    _file(video.result_path)
    return send_file(_chart_file(video, "svg"), mimetype="image/svg+xml", max_age=0)


@bp.get("/<int:video_id>/summary.pdf")
@login_required
def pdf(video_id: int):
    import io

    from portal.analyses.pdf import build_pdf
    from portal.jobs.video_summary import video_as_computation

    video = _own_video(video_id)
    doc = load_summary(_file(video.result_path))
    body = build_pdf(video_as_computation(video, doc), _chart_file(video, "png"), username=current_user.username)
    return send_file(io.BytesIO(body), mimetype="application/pdf", as_attachment=True,
                     download_name=download_name(video, "pdf"))


@bp.post("/<int:video_id>/delete")
@login_required
def delete(video_id: int):
    if not confirmed():
        video = _own_video(video_id)
        return confirm_page(f"the video “{video.title or video.filename}”", "The video, its analysis, its "
                            "files and the faces it added to an exhibit will be deleted.",
                            url_for("videos.detail", video_id=video.id))
    if not _service().delete_video(current_user.id, video_id):
        abort(404)
    log.info("video deleted user_id=%d video_id=%d", current_user.id, video_id)
    flash("The video and all its files have been deleted.", "info")
    return redirect(url_for("videos.index"))


@bp.post("/batches")
@login_required
def upload_batch():
    files = [(f.filename, f.stream) for f in request.files.getlist("photos") if f and f.filename]
    if not files:
        flash("Choose photos (or a zip of photos) to upload.", "error")
        return redirect(url_for("videos.index"))
    form = request.form
    try:
        batch, job = store_batch(_service().settings, current_user.id, files, title=form.get("title", ""),
                                 **_exhibit(), notes=form.get("notes", ""),
                                 consent=bool(form.get("consent")))
    except UploadError as exc:
        flash(str(exc), "error")
        return redirect(url_for("videos.index"))
    _service().submit(job.id)
    return redirect(url_for("videos.batch", batch_id=batch.id))


def _own_batch(batch_id: int) -> videos.Batch:
    batch = videos.get_batch(batch_id, current_user.id)
    if batch is None:
        abort(404)
    return batch


@bp.get("/batches/<int:batch_id>")
@login_required
def batch(batch_id: int):
    item = _own_batch(batch_id)
    job = jobs.get_job(item.job_id) if item.job_id else None
    return render_template("batch.html", batch=item, job=job, items=videos.batch_items(item.id), form=PostForm())


@bp.get("/batches/<int:batch_id>/summary.csv")
@login_required
def batch_csv(batch_id: int):
    item = _own_batch(batch_id)
    return send_file(_file(item.summary_csv_path), mimetype="text/csv", as_attachment=True,
                     download_name=f"batch-{item.id}-summary.csv")


@bp.post("/batches/<int:batch_id>/delete")
@login_required
def delete_batch(batch_id: int):
    if not confirmed():
        batch = _own_batch(batch_id)
        return confirm_page(f"the batch “{batch.title or batch.id}”", f"Its {batch.photos} photos, their "
                            "results in History and the faces they added to an exhibit will be deleted.",
                            url_for("videos.batch", batch_id=batch.id))
    if not _service().delete_batch(current_user.id, batch_id):
        abort(404)
    flash("The batch, its photos and their results have been deleted.", "info")
    return redirect(url_for("videos.index"))
