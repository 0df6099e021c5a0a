"""Fixtures shared by the db and portal tests."""
import pytest

from db.testing import postgres_available, temporary_postgres_schema


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
