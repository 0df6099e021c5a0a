"""Fixtures for the train tests."""
import pytest

from tests.train.fertools import make_faces


@pytest.fixture
def faces14():
    return make_faces(14)


@pytest.fixture
def no_cache(monkeypatch, tmp_path):
    return tmp_path / "cache"
