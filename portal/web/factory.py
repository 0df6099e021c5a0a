"""The Flask portal's app factory (kept out of portal/__init__.py so that importing portal.analyses needs no Flask).

    from portal.config import load_config
    from portal.web.factory import create_app
    app = create_app(load_config())

Blueprints: main (landing, menu), auth (register, log in/out), account, tokens, history, videos,
the museum pages, the kiosk and the opted-in visit pages.  The real-time app (Gradio) is mounted
beside it by run.py and identifies the user with :func:`portal.web.session.current_user_id`.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask import Flask, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

import db
from portal.accounts.service import remove_orphan_folders
from portal.analyses import storage
from portal.analyses.service import Analyses
from portal.analyses.settings import AnalysisSettings
from portal.config import Config, validate
from portal.http import TrustedProxyFix, security_headers
from portal.museum.frame_gate import FrameGate
from portal.museum.guesses import Guesses
from portal.museum.recording import Recorder
from portal.museum.settings import MuseumSettings
from portal.museum.visits import hide_code
from portal.web import (account, auth, errors, history, kiosk, kiosk_connect, kiosk_visits, main, museum_members,
                        museum_pages, museum_report, museum_sessions, ratelimit, tokens, visit_pages, visit_report)
from portal.web.users import login_manager
from portal.web.videos import init_jobs

log = logging.getLogger(__name__)
csrf = CSRFProtect()

REAL_TIME_LINKS = {"live": "/app/?tab=live", "upload": "/app/?tab=upload"}
MAX_FORM_BYTES = 2 * 1024 * 1024  # the largest request body, but for the video/batch uploads
UPLOAD_PATHS = ("/videos", "/videos/batches")  # ... which take VIDEO_MAX_MB + 1 MB (videos._upload_limit)


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


def create_app(config: Config, museum_settings=None, analysis_settings=None) -> Flask:
    """Build the portal for ``config`` (validated; the database is
    initialised and migrated here).  ``museum_settings``: analytics privacy threshold, time
    zone, retention (:class:`portal.museum.settings.MuseumSettings`; default: its defaults);
    ``analysis_settings``: the recorder's trackers' model and detector
    (:class:`portal.analyses.settings.AnalysisSettings`; default: its defaults)."""
    validate(config)
    app = PortalFlask(__name__)
    _configure(app, config, museum_settings)
    _prepare_storage(config)
    app.extensions["frames"] = FrameGate.from_config(config)  # kiosk and API frames, one process-wide gate
    app.extensions["recorder"] = _recorder(config, app.config["MUSEUM"], analysis_settings)
    app.extensions["visit_guesses"] = Guesses(config)  # wrong visit codes, shared with the API
    login_manager.init_app(app)
    csrf.init_app(app)
    errors.register(app)
    _register_hooks(app)
    _register_blueprints(app)
    init_jobs(app, config)  # videos + photo batches as background jobs (issue 12)
    ratelimit.init_app(app, config)

    @app.context_processor
    def _globals():
        return {"realtime_links": REAL_TIME_LINKS}

    log.info("portal ready (env=%s, data dir %s, database %s)", config.app_env,
             config.data_dir, db.describe(config.database_url))
    return app


def _configure(app: Flask, config: Config, museum_settings) -> None:
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
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
        WTF_CSRF_TIME_LIMIT=None,
        PORTAL=config,
        MUSEUM=(museum_settings or MuseumSettings()).with_secret(config.secret_key),
    )
    if config.proxy_count:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, config.proxy_count, config.trusted_proxies)


def _prepare_storage(config: Config) -> None:
    """The database migrated, the data folder private, and what a crash or a deleted account left
    behind removed (images no row refers to; video/batch folders of users that no longer exist)."""
    db.init(config.database_url)
    storage.make_private(config.data_dir, db.sqlite_file(config.database_url))
    with db.connection():
        storage.remove_orphans(config.data_dir, db.stored_paths())
    remove_orphan_folders(config.data_dir)


def _register_blueprints(app: Flask) -> None:
    for module in (main, auth, account, history, museum_pages, museum_members, museum_sessions,
                   museum_report, tokens, kiosk, kiosk_connect,
                   visit_pages,  # the visitor's phone page of an opted-in visit (issue 21)
                   visit_report,  # the organisation's "suggested, then visited next" (issue 21)
                   kiosk_visits):  # the kiosk's Personalise / I have a code / What next (issue 21)
        app.register_blueprint(module.bp)
    csrf.exempt(kiosk.bp)  # checked by the kiosk itself, after the login (401 first)
    csrf.exempt(kiosk_visits.bp)  # checked after the kiosk's login, as the kiosk's own routes


def _recorder(config: Config, museum, analysis_settings):
    """The process's one recorder (portal.museum.recording): the live page's Record, the kiosk
    and the API's cameras; run.py hands it to the API and the real-time app."""
    analyses = Analyses(data_dir=config.data_dir, settings=analysis_settings or AnalysisSettings(),
                        downloads=False)
    return Recorder.from_settings(museum, analyses)


def body_limit(config: Config):
    """``path -> largest request body`` the portal accepts there (for run.py's BufferedBody,
    which refuses larger ones before Flask sees them)."""
    upload = int(config.video_max_mb * 1024 * 1024) + 1024 * 1024

    def limit(path: str) -> int:
        return upload if path.rstrip("/") in UPLOAD_PATHS else MAX_FORM_BYTES
    return limit


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def _start():
        g.t0 = time.perf_counter()
        ctx = db.connection()
        ctx.__enter__()  # a database that cannot be opened: errors.py answers 503
        g.db_ctx = ctx

    @app.before_request
    def _refuse_nul():
        # PostgreSQL cannot store or even compare text with NUL characters; no form needs them
        values = [*request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values):
            log.warning("refused a request with a NUL character: %s %s", request.method, hide_code(request.path))
            return errors.render_error(400, "The text you sent contains a NUL character "
                                            "(\\0), which is not allowed. Remove it and try again.")

    @app.teardown_request
    def _close_db(exc):
        ctx = g.pop("db_ctx", None)
        if ctx is not None:
            ctx.__exit__(None, None, None)

    @app.after_request
    def _finish(response):
        for name, value in security_headers(request.path).items():
            response.headers.setdefault(name, value)
        ms = (time.perf_counter() - g.get("t0", time.perf_counter())) * 1000
        user = current_user.id if current_user and current_user.is_authenticated else "-"
        level = logging.DEBUG if request.path.startswith("/static/") else logging.INFO
        log.log(level, "%s %s %d %.1fms user=%s", request.method, hide_code(request.path),
                response.status_code, ms, user)
        return response
