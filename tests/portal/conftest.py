"""Fixtures for the portal: a fresh app per test on SQLite and on PostgreSQL (``config``:
tests/conftest.py)."""
import pytest

import db
from portal.web.factory import create_app
from tests.helpers.web import register


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
