import pytest

import db


@pytest.fixture
def database(database_url):
    real = db.init(database_url)
    with db.connection():
        yield real
    real.close()
