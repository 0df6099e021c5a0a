"""Fixtures shared by the tests: a database of each backend, the portal's configuration, a model."""
import pytest

from db.testing import postgres_available, temporary_postgres_schema
from tests.helpers import SECRET


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty database of each backend (PostgreSQL: a throw-away schema; skipped when unreachable)."""
    if request.param == "sqlite":
        yield str(tmp_path / "data" / "app.sqlite3")
        return
    if not postgres_available():
        pytest.skip("PostgreSQL not reachable (TEST_DATABASE_URL)")
    with temporary_postgres_schema(prefix="test") as url:
        yield url


@pytest.fixture
def config_overrides() -> dict:
    """Settings of ``config`` that a folder's conftest or a test module changes (keyword arguments
    of ``portal.config.load_config``)."""
    return {}


@pytest.fixture
def config(tmp_path, database_url, config_overrides):
    """The portal's configuration for one test: data and log under ``tmp_path``, the
    ``database_url`` database, fast password hashes, plus ``config_overrides``."""
    from portal.config import load_config

    return load_config({}, data_dir=tmp_path / "data", database_url=database_url, secret_key=SECRET,
                       testing=True, password_hash_method="pbkdf2:sha256:1000",
                       log_file=tmp_path / "logs" / "app.log", **config_overrides)


@pytest.fixture(scope="session")
def model_path(tmp_path_factory) -> str:
    """The shipped model when it is there (realistic results and screenshots), else the engine's
    stand-in. Loaded once with one intra-op thread: the tests share 2 cores with other work."""
    from realtime.classifier import DEFAULT_MODEL, load_classifier
    from realtime.research.devmodel import write_standin_model

    if DEFAULT_MODEL.is_file() and DEFAULT_MODEL.with_suffix(".json").is_file():
        path = DEFAULT_MODEL
    else:
        path = write_standin_model(tmp_path_factory.mktemp("model"))
    load_classifier(path, threads=1)
    return str(path)
