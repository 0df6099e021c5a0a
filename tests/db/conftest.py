import peewee as pw
import pytest

import db
from db import migrations


@pytest.fixture
def database(database_url):
    real = db.init(database_url)
    with db.connection():
        yield real
    real.close()


def database_at(database_url, version: int) -> pw.Database:
    """The database emptied (also of tables newer than the caller knows) and migrated up to ``version``
    only: the shape an older release left, for migration tests."""
    db.init(database_url)
    real = db.database.obj
    sqlite = isinstance(real, pw.SqliteDatabase)
    with db.connection():
        if sqlite:
            real.execute_sql("PRAGMA foreign_keys = OFF")
        for table in real.get_tables():
            real.execute_sql(f'DROP TABLE IF EXISTS "{table}"' + ("" if sqlite else " CASCADE"))
        if sqlite:
            real.execute_sql("PRAGMA foreign_keys = ON")
        assert migrations.migrate(real, target=version) == version
    return real
