"""The JSON API under ``/api/v1`` (issue 11): a FastAPI sub-app that ``run.py`` mounts.

    api = build_api(config, app_settings=..., museum_settings=..., limiter=...)
    root.mount("/api/v1", api)

OpenAPI at ``/api/v1/openapi.json``; interactive docs at ``/api/v1/docs``, with the Swagger UI
files served from the ``swagger-ui-py`` package (no CDN).  Routes: see :mod:`.auth`,
:mod:`.analyses`, :mod:`.museum`, :mod:`.sessions`, :mod:`.videos` (videos, photo batches) and
:mod:`.jobs`.  Other routers plug in with ``api.include_router(router)`` and
``Depends(portal.api.auth.current_user)``.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

from portal.accounts.limits import LoginAttempts
from portal.accounts.passwords import hash_password
from portal.analyses.service import Analyses
from portal.analyses.settings import AnalysisSettings
from portal.api import analyses, auth, batches, errors, jobs, members, museum, sessions, videos, visits
from portal.api.context import ApiContext
from portal.api.limits import BodyLimit
from portal.api.schemas import COMMON, declared
from portal.config import Config
from portal.http import DOCS_CSP
from portal.jobs.service import JobService
from portal.museum.frame_gate import FrameGate
from portal.museum.recording import Recorder
from portal.museum.settings import MuseumSettings

PREFIX = "/api/v1"
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other form fields


def swagger_assets() -> Path:
    import swagger_ui
    return Path(swagger_ui.__file__).parent / "static"


def _docs(api: FastAPI, prefix: str) -> None:
    api.mount("/docs-assets", StaticFiles(directory=swagger_assets()), name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    def docs():
        page = get_swagger_ui_html(
            openapi_url=f"{prefix}/openapi.json", title="Emotion Classifier API",
            swagger_js_url=f"{prefix}/docs-assets/swagger-ui-bundle.js",
            swagger_css_url=f"{prefix}/docs-assets/swagger-ui.css",
            swagger_favicon_url=f"{prefix}/docs-assets/favicon-32x32.png")
        page.headers["Content-Security-Policy"] = DOCS_CSP  # its one inline start-up script
        return page


def build_api(config: Config, *, app_settings: AnalysisSettings | None = None,
              museum_settings: MuseumSettings | None = None, limiter: LoginAttempts | None = None,
              jobs_service: JobService | None = None, frame_gate: FrameGate | None = None,
              prefix: str = PREFIX, visit_guesses=None, recorder: Recorder | None = None) -> FastAPI:
    """The API app.  ``limiter``: failed token logins (default: the login-form limits, own counters);
    ``jobs_service``: the web app's job service (videos, batches; without it those routes answer 503);
    ``frame_gate``: recording frames' size limit and analysis slots, shared with the kiosk
    (default: a gate of its own, from ``config``); ``visit_guesses``: wrong visit codes per address,
    shared with the portal's visit pages (default: counters of its own); ``recorder``: camera
    sessions' trackers, the portal's one recorder (default: one of its own)."""
    app_settings = app_settings or AnalysisSettings()
    museum_settings = (museum_settings or MuseumSettings()).with_secret(config.secret_key)
    api = FastAPI(title="Emotion Classifier API", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json", root_path_in_servers=False,
                  servers=[{"url": prefix}], dependencies=[Depends(errors.refuse_nul)],
                  responses=declared(*COMMON),
                  description="Photos, exhibits and visitor analytics; videos and photo batches "
                              "analysed as background jobs. Authenticate with "
                              "`Authorization: Bearer <token>` (POST /token or a personal "
                              "access token from the Account page). A token's scope limits it: "
                              "`read` only reads, `kiosk` records at its one exhibit, `full` does "
                              "what your role allows; anything else answers 403 naming the scope "
                              "it needs.")
    engine = Analyses(data_dir=config.data_dir, settings=app_settings, downloads=False)
    api.state.ctx = ApiContext(
        config=config, app=engine, museum=museum_settings,
        limiter=limiter or LoginAttempts(config),
        recorder=recorder or Recorder.from_settings(museum_settings, engine),
        dummy_hash=hash_password("not-a-real-password-0", config.password_hash_method),
        jobs=jobs_service, frames=frame_gate or FrameGate.from_config(config),
        visit_guesses=visit_guesses or visits.Guesses(config))
    errors.register(api)
    for module in (auth, analyses, museum, members, sessions, videos, batches, jobs, visits):
        api.include_router(module.router)
    _docs(api, prefix)
    api.add_middleware(BodyLimit, max_bytes=app_settings.max_upload_bytes + FORM_OVERHEAD,
                       large=videos.upload_limits(jobs_service))
    return api
