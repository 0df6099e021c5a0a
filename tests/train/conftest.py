"""Fixtures for the train tests."""
import pytest

from tests.train.fertools import make_faces


@pytest.fixture
def faces14():
    return make_faces(14)


@pytest.fixture
def no_cache(monkeypatch, tmp_path):
    return tmp_path / "cache"


@pytest.fixture(autouse=True)
def restore_logging():
    """The CLI's setup_logging replaces the root handlers; put pytest's back afterwards."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
