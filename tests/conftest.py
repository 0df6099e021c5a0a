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
