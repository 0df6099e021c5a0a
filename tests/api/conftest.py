"""Fixtures for the JSON API tests: run.py's app served by uvicorn on a free port (SQLite and
PostgreSQL), a model, users with tokens, and an httpx client per user."""
from __future__ import annotations

import httpx
import pytest

import db
from tests.helpers.api import login, make_user
from tests.helpers.app import ServerThread, jpeg_bytes, portrait_scene


@pytest.fixture(scope="session")
def app_settings(model_path):
    from portal.analyses.settings import AnalysisSettings

    return AnalysisSettings(model_path=model_path, max_upload_bytes=2 * 1024 * 1024, warm_up=False)


@pytest.fixture
def museum_settings():
    """Exact numbers (ANALYTICS_NOISE=0) for the arithmetic checks; the privacy tests
    (test_api_privacy.py) use the default noise."""
    from portal.museum.settings import MuseumSettings

    return MuseumSettings(min_visitors=2, max_fps=1000, max_sessions=3,
                          max_frame_bytes=1024 * 1024, noise=0.0)


@pytest.fixture
def config_overrides() -> dict:
    """tests/conftest.py's ``config`` with 3 failed logins per account (test_api_auth.py); a
    module's own ``config_overrides`` replaces this one."""
    return {"login_limit": "3 per 15 minutes"}


@pytest.fixture
def server(config, app_settings, museum_settings):
    import run

    app = run.build_app(config, realtime=False, realtime_settings=app_settings,
                        museum_settings=museum_settings)
    with ServerThread(app) as srv:
        yield srv
    db.database.obj.close()


@pytest.fixture
def users(server, config):
    """alice, bob, carol: logged-in clients."""
    clients = {}
    for name in ("alice", "bob", "carol"):
        make_user(config, name)
        clients[name] = login(server, name)
    yield clients
    for c in clients.values():
        c.close()


@pytest.fixture
def anon(server):
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=60) as c:
        yield c


@pytest.fixture(scope="session")
def portrait_jpeg() -> bytes:
    return jpeg_bytes(portrait_scene())
