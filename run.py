"""The one server: the Flask portal at /, the real-time Gradio app at /app.

    python run.py [--host 127.0.0.1] [--port 8000]

Configuration comes from the environment (see portal/config.py: DATA_DIR,
DATABASE_URL, SECRET_KEY, LOG_FILE, APP_ENV, ...) and these flags; it is
built once here and passed to everything else.
"""
from __future__ import annotations

import argparse
import logging
import sys

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI

from portal.factory import create_app
from portal.config import Config, ConfigError, load_config, validate
from portal.session import auth_dependency
from realtime.logsetup import configure_logging

log = logging.getLogger("run")
REALTIME_PATH = "/app"


def mount_realtime(app: FastAPI, config: Config, flask_app, settings=None) -> None:
    """Mount the Gradio interface (:mod:`portal.gradio_app`) at ``/app``.

    ``settings`` (:class:`portal.gradio_app.settings.AppSettings`) defaults to the
    environment's (EMOTION_MODEL, LIVE_DETECTOR, ...).  It is mounted with
    :func:`portal.session.auth_dependency`, so its event handlers see the user's id as
    ``int(request.username)``, and behind :class:`portal.gradio_app.guard.RequireUser`, so
    *every* route under ``/app`` (API, uploads, queue, assets) refuses anonymous
    requests: 401, or a redirect to the login page for page navigations.
    """
    import gradio as gr

    from portal.gradio_app import blocks
    from portal.gradio_app.guard import CachedUserLookup, RequireUser
    from portal.gradio_app.settings import settings_from_env
    settings = settings or settings_from_env()
    interface = blocks.build_blocks(config, flask_app, settings=settings)
    user_id = CachedUserLookup(auth_dependency(flask_app))  # webcam streams check ~20 times/s
    gr.mount_gradio_app(app, interface, path=REALTIME_PATH, auth_dependency=user_id,
                        **blocks.mount_options(settings))
    app.add_middleware(RequireUser, prefix=REALTIME_PATH, user_id=user_id)
    log.info("real-time app mounted at %s (upload detector %s, live detector %s)",
             REALTIME_PATH, settings.upload_detector, settings.live_detector)


def build_app(config: Config, realtime: bool = True, realtime_settings=None) -> FastAPI:
    """The root ASGI app.  Routes match in order: /app first, then Flask.
    ``realtime_settings``: the real-time app's settings (default: from the environment)."""
    validate(config)
    root = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    flask_app = create_app(config)
    root.state.flask_app = flask_app
    if realtime:
        mount_realtime(root, config, flask_app, realtime_settings)
    root.mount("/", WSGIMiddleware(flask_app))
    return root


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the Emotion Classifier server.")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    config = load_config(host=args.host, port=args.port)
    configure_logging(config.log_file, config.log_level)
    try:
        app = build_app(config)
    except ConfigError as exc:
        log.error("refusing to start: %s", exc)
        return 2
    import uvicorn
    log.info("serving on http://%s:%d (env=%s)", config.host, config.port, config.app_env)
    uvicorn.run(app, host=config.host, port=config.port, log_config=None,
                proxy_headers=True, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
