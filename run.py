"""The one server: the Flask portal at /, the real-time Gradio app at /app.

    python run.py [--host 127.0.0.1] [--port 8000]

Configuration comes from the environment (see portal/config.py: DATA_DIR,
DATABASE_URL, SECRET_KEY, LOG_FILE, APP_ENV, ...) and these flags; it is
built once here and passed to everything else.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from portal.config import (Config, ConfigError, analysis_settings_from_env, load_config, museum_settings_from_env,
                           validate)
from portal.http import SecurityHeaders
from portal.web.factory import body_limit, create_app
from portal.web.request_body import BufferedBody
from portal.web.session import auth_dependency
from realtime.logsetup import configure_logging

log = logging.getLogger("run")
REALTIME_PATH = "/app"
API_PATH = "/api/v1"


def mount_realtime(app: FastAPI, config: Config, flask_app, settings=None) -> None:
    """The Gradio interface (:mod:`portal.gradio_app.mount`) at ``/app``, identifying users by the
    portal's session (:func:`portal.web.session.auth_dependency`), with the portal's one recorder.
    ``settings`` (:class:`portal.analyses.settings.AnalysisSettings`) default to the environment's."""
    from portal.gradio_app.mount import mount
    from portal.web.users import token_epoch

    mount(app, config, settings or analysis_settings_from_env(), who=auth_dependency(flask_app), epoch=token_epoch,
          flask_app=flask_app, recorder=flask_app.extensions.get("recorder"), prefix=REALTIME_PATH)


def mount_api(app: FastAPI, config: Config, flask_app, realtime_settings,
              museum_settings) -> None:
    """The JSON API (issue 11) at ``/api/v1``; failed token logins are limited like the login form."""
    from portal.api import build_api
    api = build_api(config, app_settings=realtime_settings or analysis_settings_from_env(),
                    museum_settings=museum_settings, prefix=API_PATH,
                    jobs_service=flask_app.extensions.get("jobs"), frame_gate=flask_app.extensions.get("frames"),
                    visit_guesses=flask_app.extensions.get("visit_guesses"),
                    recorder=flask_app.extensions.get("recorder"),  # the kiosk's and live page's too
                    limiter=flask_app.extensions.get("login_attempts"))  # one counter per account
    app.mount(API_PATH, api)
    log.info("JSON API mounted at %s (docs at %s/docs)", API_PATH, API_PATH)


def portal_asgi(config: Config, flask_app):
    """The Flask portal as ASGI: a2wsgi's thread pool behind :class:`BufferedBody`, so a thread
    only ever sees a complete request body (slow or stalled bodies wait in the event loop, get
    408 after BODY_TIMEOUT / below BODY_MIN_RATE, and 413 above the portal's limits)."""
    return BufferedBody(WSGIMiddleware(flask_app), max_body=body_limit(config), timeout_s=config.body_timeout_s,
                        min_rate=config.body_min_rate, spool_dir=config.data_dir)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    """uvicorn runs this when the server stops (SIGTERM from systemd or docker, SIGINT, Ctrl-C):
    the embedded job pool's workers are terminated, so nothing is left running (issue 18); a job
    they were running is re-queued at the next start."""
    yield
    flask_app = getattr(app.state, "flask_app", None)
    jobs = flask_app.extensions.get("jobs") if flask_app is not None else None
    if jobs is not None:
        log.info("stopping the job workers")
        jobs.shutdown(wait=False)


def build_app(config: Config, realtime: bool = True, realtime_settings=None,
              museum_settings=None) -> FastAPI:
    """The root ASGI app.  Routes match in order: /app, /api/v1, then Flask.
    ``realtime_settings``: the real-time app's settings; ``museum_settings``: analytics, API
    limits, retention (both default to the environment's)."""
    validate(config)
    museum_settings = museum_settings or museum_settings_from_env()
    root = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    # Same-origin only: no CORS headers for any other origin. Its presence also switches off
    # Gradio's own CORS middleware, which reflects other origins with credentials.
    root.add_middleware(CORSMiddleware, allow_origins=[], allow_credentials=False)
    flask_app = create_app(config, museum_settings=museum_settings,  # builds the one recorder
                           analysis_settings=realtime_settings or analysis_settings_from_env())
    root.state.flask_app = flask_app
    if realtime:
        mount_realtime(root, config, flask_app, realtime_settings)
    mount_api(root, config, flask_app, realtime_settings, museum_settings)
    root.mount("/", portal_asgi(config, flask_app))
    root.add_middleware(SecurityHeaders, app_prefix=REALTIME_PATH)  # outermost: every response
    return root


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the Emotion Classifier server.")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    return parser.parse_args(argv)


def server_options(config: Config) -> dict:
    """``uvicorn.run`` options.  Proxy headers are *not* handled by uvicorn (it would trust
    X-Forwarded-For from any local peer by default): the portal believes them only when
    PROXY_COUNT/TRUSTED_PROXIES say so (portal.http.TrustedProxyFix).  Idle keep-alive
    connections close after KEEPALIVE_TIMEOUT; uvicorn has no timeout for slow request
    headers, which is why production runs behind nginx (client_header_timeout, docs/deploy)."""
    return dict(host=config.host, port=config.port, log_config=None, proxy_headers=False,
                access_log=False, timeout_keep_alive=config.keepalive_timeout_s)


def start(config: Config) -> FastAPI:
    """What the server does before it listens: owner-only file permissions from here on
    (umask 077: the database, images, downloads, logs are 0600, new folders 0700), logging,
    the app.  Raises ConfigError for settings that must not run."""
    os.umask(0o077)
    configure_logging(config.log_file, config.log_level)
    return build_app(config)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(host=args.host, port=args.port)
        app = start(config)
    except ConfigError as exc:
        log.error("refusing to start: %s", exc)
        return 2
    museum = app.state.flask_app.config["MUSEUM"]
    if museum.retention_days:
        from portal.accounts.retention import start_retention
        start_retention(config.data_dir, museum.retention_days)
    from portal.museum.visits import start_expiry
    start_expiry()  # opted-in visit codes and their readings are deleted at expiry (docs/visits.md)
    recorder = app.state.flask_app.extensions.get("recorder")
    if recorder is not None:  # closes recordings nobody feeds any more (portal.museum.recording)
        recorder.start_sweeper()
    import uvicorn
    log.info("serving on http://%s:%d (env=%s)", config.host, config.port, config.app_env)
    uvicorn.run(app, **server_options(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
