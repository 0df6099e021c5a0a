"""Fixtures for the web-app tests: a model, the portal's database and a user, test images."""
from __future__ import annotations

import numpy as np
import pytest

import db
from tests.helpers.app import portrait_scene


@pytest.fixture(scope="session")
def settings(model_path):
    from portal.analyses.settings import AnalysisSettings

    return AnalysisSettings(model_path=model_path, max_upload_bytes=2 * 1024 * 1024,
                       max_pixels=20_000_000, warm_up=False)


@pytest.fixture
def database_url(tmp_path) -> str:
    """SQLite only: the web app's pages and events do not depend on the database (the portal's
    and the API's tests run on both), so tests/conftest.py's ``config`` runs once per test here."""
    return str(tmp_path / "data" / "app.sqlite3")


@pytest.fixture
def flask_app(config):
    from portal.web.factory import create_app

    app = create_app(config)
    yield app
    db.database.obj.close()


@pytest.fixture
def user_id(flask_app) -> int:
    with db.connection():
        return db.create_user("alice", "alice@example.org", "x-not-a-real-hash").id


@pytest.fixture
def ctx(config, settings, flask_app):
    from portal.analyses.service import Analyses

    return Analyses(data_dir=config.data_dir, settings=settings)


@pytest.fixture(scope="session")
def portrait() -> np.ndarray:
    """640x480 RGB with one real face (scikit-image's astronaut)."""
    return portrait_scene()


@pytest.fixture(scope="session")
def fer_scene() -> np.ndarray:
    """Four FER2013 faces composited into an 800x600 scene (skips without the shared CSV)."""
    from realtime.research.ferdata import fer_csv_path, load_fer_faces
    from realtime.research.scenes import background, composite

    if not fer_csv_path().is_file():
        pytest.skip(f"FER2013 CSV not available at {fer_csv_path()}")
    faces, _ = load_fer_faces("PublicTest", limit=14)
    return composite(faces[[0, 3, 6, 10]], [110, 100, 120, 105], background("brick", (600, 800)), seed=3,
                     context=0.3).rgb


@pytest.fixture(scope="session")
def no_face_scene() -> np.ndarray:
    from realtime.research.scenes import background

    return background("coffee", (375, 500))


@pytest.fixture
def client(config, settings):
    """The whole server (portal + /app) through an in-process HTTP client."""
    from fastapi.testclient import TestClient

    import run

    app = run.build_app(config, realtime_settings=settings)
    with TestClient(app, follow_redirects=False) as c:
        yield c
