"""Account page: details, edit form, password change, delete account."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user, logout_user

import db
from portal.accounts import tokens as access
from portal.accounts.passwords import hash_password, password_problem, verify_password
from portal.accounts.service import delete_account
from portal.web.forms import AccountForm, DeleteAccountForm, PasswordForm
from portal.web.settings import portal_config
from portal.web.users import PortalUser, rotate_token

log = logging.getLogger(__name__)
bp = Blueprint("account", __name__, url_prefix="/account")



@bp.route("", methods=["GET", "POST"])
@login_required
def view():
    row = current_user.row
    form = AccountForm(obj=row)
    if form.validate_on_submit():
        try:
            db.update_user(row.id, full_name=form.full_name.data or "",
                           email=form.email.data, organisation=form.organisation.data or "")
        except db.DuplicateUser:
            form.email.errors.append("This e-mail address is already registered.")
        else:
            log.info("account updated user_id=%d", row.id)
            flash("Your details have been saved.", "success")
            return redirect(url_for("account.view"))
    status = 400 if form.errors else 200
    return render_template("account.html", form=form, user=row,
                           kept=db.count_computations(row.id)), status


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    row = current_user.row
    form = PasswordForm()
    if form.validate_on_submit():
        if not verify_password(row.password_hash, form.current_password.data):
            form.current_password.errors.append("This is not your current password.")
            g.auth_failed = True  # counted by the password re-check limit
            log.warning("password change refused (wrong current password) user_id=%d", row.id)
        elif (problem := password_problem(form.new_password.data, row.username, row.email)):
            form.new_password.errors.append(problem)
        elif form.new_password.data == form.current_password.data:
            form.new_password.errors.append("The new password must differ from the current one.")
        else:
            # A new token signs out every other session and "remember me" cookie.
            db.update_user(row.id, password_hash=hash_password(form.new_password.data,
                                                               portal_config().password_hash_method))
            login_user(PortalUser(rotate_token(row.id)))
            access.password_changed(row.id)  # every API token too, devices' included
            log.info("password changed user_id=%d", row.id)
            flash("Your password has been changed. Other devices have been logged out and every "
                  "API token revoked: create new ones for your devices.", "success")
            return redirect(url_for("account.view"))
    status = 400 if form.errors else 200
    return render_template("password.html", form=form), status


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete():
    row = current_user.row
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if not verify_password(row.password_hash, form.password.data):
            form.password.errors.append("This is not your password.")
            g.auth_failed = True
        else:
            # jobs cancelled; videos, photo batches, computations and every file of them deleted
            delete_account(portal_config().data_dir, row.id, jobs=current_app.extensions.get("jobs"),
                           recorder=current_app.extensions.get("recorder"))
            logout_user()
            flash("Your account and all its data have been deleted.", "info")
            return redirect(url_for("main.landing"))
    status = 400 if form.errors else 200
    return render_template("delete_account.html", form=form,
                           kept=db.count_computations(row.id)), status
