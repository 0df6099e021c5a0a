"""History: the user's computations, their images and downloads."""
from __future__ import annotations

import io
import logging
import mimetypes

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

import db
from portal.analyses import service as analyses
from portal.analyses import storage
from portal.analyses.documents import content_disposition, download_name, json_bytes
from portal.analyses.pdf import emotion_order, face_label
from portal.web.confirm import confirm_page, confirmed
from portal.web.forms import PostForm
from portal.web.settings import portal_config
from realtime import PROBABILITY_NOTE, uncertain_note

log = logging.getLogger(__name__)
bp = Blueprint("history", __name__, url_prefix="/history")

THUMB_SIZE = (240, 240)



def _own(comp_id: int) -> db.Computation:
    comp = db.get_computation(current_user.id, comp_id)
    if comp is None:
        abort(404)
    return comp


@bp.get("")
@login_required
def index():
    page = request.args.get("page", 1, type=int) or 1
    listing = db.list_computations(current_user.id, page=max(1, page),
                                   per_page=portal_config().per_page)
    if listing.total and page > listing.pages:
        return redirect(url_for("history.index", page=listing.pages))
    from db.videos import list_videos

    return render_template("history.html", listing=listing, form=PostForm(),
                           videos=list_videos(current_user.id, limit=20))


@bp.get("/<int:comp_id>")
@login_required
def detail(comp_id: int):
    comp = _own(comp_id)
    data = db.computation_to_dict(comp)
    faces = data["result"].get("faces") or []
    threshold = (data["result"].get("uncertainty") or {}).get("threshold")
    return render_template("computation.html", comp=comp, data=data, faces=faces,
                           labels=[face_label(f) for f in faces], emotions=emotion_order(faces), form=PostForm(),
                           bars_note=f"{PROBABILITY_NOTE} {uncertain_note(threshold)}")


@bp.get("/<int:comp_id>/image/<any(annotated, original):which>")
@login_required
def image(comp_id: int, which: str):
    comp = _own(comp_id)
    stored = comp.annotated_path if which == "annotated" else comp.original_path
    path = storage.resolve(portal_config().data_dir, stored)
    if path is None or not path.is_file():
        abort(404)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return send_file(path, mimetype=mimetype, max_age=0, conditional=True)


@bp.get("/<int:comp_id>/thumb")
@login_required
def thumb(comp_id: int):
    comp = _own(comp_id)
    for stored in (comp.annotated_path, comp.original_path):
        path = storage.resolve(portal_config().data_dir, stored)
        if path is not None and path.is_file():
            try:
                from PIL import Image
                with Image.open(path) as img:
                    img.thumbnail(THUMB_SIZE)
                    out = io.BytesIO()
                    img.convert("RGB").save(out, "JPEG", quality=80)
                return Response(out.getvalue(), mimetype="image/jpeg",
                                headers={"Cache-Control": "private, max-age=3600"})
            except Exception:  # unreadable image: fall back to the placeholder
                log.warning("thumbnail failed for computation %d", comp.id, exc_info=True)
    return redirect(url_for("static", filename="no-image.svg"))


@bp.get("/<int:comp_id>/json")
@login_required
def download_json(comp_id: int):
    comp = _own(comp_id)
    data = db.computation_to_dict(comp)
    return Response(json_bytes(data, current_user.username), mimetype="application/json", headers={
        "Content-Disposition": content_disposition(download_name(data, "json"))})


@bp.get("/<int:comp_id>/pdf")
@login_required
def download_pdf(comp_id: int):
    from portal.analyses.pdf import build_pdf
    comp = _own(comp_id)
    annotated = storage.resolve(portal_config().data_dir, comp.annotated_path or comp.original_path)
    data = db.computation_to_dict(comp)
    pdf = build_pdf(data, annotated, username=current_user.username)
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=download_name(data, "pdf"))


@bp.post("/<int:comp_id>/delete")
@login_required
def delete(comp_id: int):
    if not confirmed():
        comp = _own(comp_id)
        page = request.form.get("page", type=int)
        return confirm_page(f"“{comp.title or 'this result'}”", "The result, its images and its downloads "
                            "will be deleted.", url_for("history.detail", comp_id=comp.id),
                            keep={"page": page} if page else None)
    if analyses.delete(portal_config().data_dir, current_user.id, comp_id) is None:
        abort(404)
    flash("The computation, its images and its downloads have been deleted.", "info")
    page = request.form.get("page", type=int)
    return redirect(url_for("history.index", page=page) if page and page > 1
                    else url_for("history.index"))
