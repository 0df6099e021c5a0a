"""Landing page, main menu, health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, send_from_directory, url_for
from flask_login import current_user, login_required

import db

bp = Blueprint("main", __name__)


@bp.get("/")
def landing():
    if current_user.is_authenticated:
        return redirect(url_for("main.menu"))
    return render_template("landing.html")


@bp.get("/menu")
@login_required
def menu():
    recent = db.list_computations(current_user.id, page=1, per_page=3)
    return render_template("menu.html", recent=recent)


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on every page, the Gradio pages under /app included."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")
