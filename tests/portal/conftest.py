"""Fixtures for the portal: a fresh app per test on SQLite and on PostgreSQL."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for "import portal_testlib"

import db  # noqa: E402
from portal.web.factory import create_app  # noqa: E402
from portal.config import load_config  # noqa: E402
from portal_testlib import register  # noqa: E402


@pytest.fixture
def config(tmp_path, database_url):
    return load_config({}, data_dir=tmp_path / "data", database_url=database_url,
                       secret_key="t" * 8 + "0123456789abcdef" * 3, testing=True,
                       password_hash_method="pbkdf2:sha256:1000",
                       log_file=tmp_path / "logs" / "app.log")


@pytest.fixture
def app(config):
    app = create_app(config)
    yield app
    db.database.obj.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def alice(client):
    """A registered user, logged in on ``client``."""
    assert register(client, "alice").status_code == 302
    with db.connection():
        return db.get_user_by_username("alice")
