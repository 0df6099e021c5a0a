"""Friendly error pages: never a traceback in the browser; every 500 logged."""
from __future__ import annotations

import logging

import peewee as pw
from flask import g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.museum.visits import hide_code

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Forbidden", "You are not allowed to do that."),
    404: ("Page not found", "There is nothing here. It may have been deleted, or the address is wrong."),
    405: ("Method not allowed", "That page cannot be used this way."),
    413: ("Too large", "What you sent is too large."),
    429: ("Too many attempts", "Please wait a little and try again."),
    503: ("Service unavailable", "The database cannot be reached right now. It has been logged; "
                                 "please try again in a few minutes."),
    500: ("Something went wrong", "An unexpected error happened on our side. It has been logged; please try again."),
}


def render_error(code: int, message: str | None = None):
    title, default = MESSAGES.get(code, ("Error", "Something went wrong."))
    return render_template("error.html", code=code, title=title,
                           message=message or default), code


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        log.warning("CSRF check failed: %s %s (%s)", request.method, hide_code(request.path), exc.description)
        return render_error(400, "This form has expired or did not come from this site. "
                                 "Please go back, reload the page and try again.")

    @app.errorhandler(pw.OperationalError)
    @app.errorhandler(pw.InterfaceError)
    def _database_down(exc):
        # The page must not touch the database again: whoever it was, show it anonymously.
        from flask_login import AnonymousUserMixin
        if g.get("_login_user") is None:
            g._login_user = AnonymousUserMixin()
        log.error("database unavailable on %s %s: %s", request.method, hide_code(request.path), exc)
        return render_error(503)

    @app.errorhandler(HTTPException)
    def _http(exc):
        if exc.code is None or exc.code < 400:
            return exc
        return render_error(exc.code)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("unhandled error on %s %s", request.method, hide_code(request.path))
        return render_error(InternalServerError.code)
