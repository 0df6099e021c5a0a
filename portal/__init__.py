"""The account portal: a Flask app factory.

    from portal.config import load_config
    app = create_app(load_config())

Blueprints: main (landing, menu), auth (register, log in/out), account,
history.  The real-time app (Gradio, issue 6) is mounted beside it by run.py
and identifies the user with :func:`portal.session.current_user_id`.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask import Flask, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

import db

from . import errors
from .config import Config, validate
from .security import LoginLimiter
from .users import login_manager

log = logging.getLogger(__name__)
csrf = CSRFProtect()

REAL_TIME_LINKS = {"live": "/app/?tab=live", "upload": "/app/?tab=upload"}

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "frame-ancestors 'self'; form-action 'self'; base-uri 'self'")


class PortalFlask(Flask):
    def process_response(self, response):
        # Runs after every after_request hook and after the session is saved,
        # so it sees all cookies (session, remember me).
        response = super().process_response(response)
        if request.is_secure:  # Secure cookies whenever we are served over HTTPS
            cookies = response.headers.getlist("Set-Cookie")
            if cookies:
                response.headers.remove("Set-Cookie")
                for cookie in cookies:
                    if "; secure" not in cookie.lower():
                        cookie += "; Secure"
                    response.headers.add("Set-Cookie", cookie)
        return response


def create_app(config: Config) -> Flask:
    """Build the portal for ``config`` (validated; the database is
    initialised and migrated here)."""
    validate(config)
    app = PortalFlask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        DEBUG=config.debug,
        TESTING=config.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        REMEMBER_COOKIE_DURATION=timedelta(days=14),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config.cookie_secure,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        PORTAL=config,
    )
    app.extensions["login_limiter"] = LoginLimiter(config.login_max_failures,
                                                   config.login_window_seconds)
    db.init(config.database_url)
    login_manager.init_app(app)
    csrf.init_app(app)
    errors.register(app)
    _register_hooks(app)

    from . import account, auth, history, main
    for module in (main, auth, account, history):
        app.register_blueprint(module.bp)
    from .videos import init_jobs
    init_jobs(app, config)  # videos + photo batches as background jobs (issue 12)

    @app.context_processor
    def _globals():
        return {"realtime_links": REAL_TIME_LINKS}

    log.info("portal ready (env=%s, data dir %s, database %s)", config.app_env,
             config.data_dir, db.describe(config.database_url))
    return app


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def _start():
        g.t0 = time.perf_counter()
        g.db_ctx = db.connection()
        g.db_ctx.__enter__()

    @app.teardown_request
    def _close_db(exc):
        ctx = g.pop("db_ctx", None)
        if ctx is not None:
            ctx.__exit__(None, None, None)

    @app.after_request
    def _finish(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        ms = (time.perf_counter() - g.get("t0", time.perf_counter())) * 1000
        user = current_user.id if current_user and current_user.is_authenticated else "-"
        level = logging.DEBUG if request.path.startswith("/static/") else logging.INFO
        log.log(level, "%s %s %d %.1fms user=%s", request.method, request.path,
                response.status_code, ms, user)
        return response
