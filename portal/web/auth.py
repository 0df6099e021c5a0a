"""Register, log in, log out."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

import db
from db import tokens
from portal.accounts.passwords import hash_password, password_problem, verify_password
from portal.web.forms import LoginForm, PostForm, RegisterForm
from portal.web.ratelimit import client_ip
from portal.web.settings import portal_config
from portal.web.users import PortalUser, rotate_token

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

# Compared against when the user does not exist, so both cases take as long.
_DUMMY_HASH = None



def safe_next(target: str | None) -> str | None:
    """Only same-site absolute paths are followed after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    return target


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.menu"))
    form = RegisterForm()
    if form.validate_on_submit():
        problem = password_problem(form.password.data, form.username.data, form.email.data)
        if problem:
            form.password.errors.append(problem)
        else:
            try:
                row = db.create_user(form.username.data, form.email.data,
                                     hash_password(form.password.data, portal_config().password_hash_method),
                                     full_name=form.full_name.data or "",
                                     organisation=form.organisation.data or "")
            except db.DuplicateUser as exc:
                field = form.username if exc.field == "username" else form.email
                field.errors.append(f"This {'username' if exc.field == 'username' else 'e-mail address'}"
                                    " is already registered.")
            else:
                log.info("registered user_id=%d username=%s", row.id, row.username)
                login_user(PortalUser(row))
                flash(f"Welcome, {row.username}! Your account is ready.", "success")
                return redirect(url_for("main.menu"))
    status = 400 if form.errors else 200
    return render_template("register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("main.menu"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        row = db.get_user_by_login(form.login.data)
        ok, wait = _checked(row, form.login.data, form.password.data)
        if wait:
            return _too_many(wait)
        if ok:
            db.update_user(row.id, last_login_at=db.base.utcnow())
            login_user(PortalUser(row), remember=form.remember.data)
            log.info("login ok user_id=%d ip=%s remember=%s", row.id, client_ip(), form.remember.data)
            flash(f"Logged in as {row.username}.", "success")
            return redirect(safe_next(request.args.get("next")) or url_for("main.menu"))
        g.auth_failed = True  # counted by LoginAttempts (portal.accounts.limits)
        log.warning("login failed: login=%.40s ip=%s known_user=%s", form.login.data,
                    client_ip(), row is not None)
        form.form_errors.append("Wrong username/e-mail or password.")
        status = 401
    elif form.errors:
        status = 400
    return render_template("login.html", form=form), status


def _checked(row, login: str, password: str) -> tuple[bool, int]:
    """``(ok, wait)`` from the login limits shared with the API (one counter per account)."""
    attempts = current_app.extensions["login_attempts"]
    account = attempts.account(login, row.id if row is not None else None)

    def verify() -> bool:
        if row is None:
            _burn_time(password)
            return False
        return verify_password(row.password_hash, password)
    return attempts.attempt(client_ip(), account, verify)


def _too_many(wait: int):
    from portal.web.errors import render_error
    from portal.web.ratelimit import wait_message
    log.warning("login refused: too many failed attempts ip=%s", client_ip())
    body, code = render_error(429, wait_message(wait))
    return body, code, {"Retry-After": str(wait)}


def _burn_time(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-real-password-0", portal_config().password_hash_method)
    verify_password(_DUMMY_HASH, password)


@bp.post("/logout")
@login_required
def logout():
    form = PostForm()
    if form.validate_on_submit():
        user_id = current_user.id
        rotate_token(user_id)  # the old session and "remember me" cookies stop working
        tokens.revoke_login_tokens(user_id)  # and the API's POST /token logins (devices' stay)
        logout_user()
        log.info("logout user_id=%d", user_id)
        flash("You have been logged out.", "info")
    return redirect(url_for("main.landing"))
