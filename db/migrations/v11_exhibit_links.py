"""Migration 11 (issue 19): ``videos.exhibit_id`` and ``batches.exhibit_id`` become foreign keys to
``exhibits`` (``ON DELETE SET NULL``).  Before, they were plain integers: deleting an exhibit (or its
organisation) left videos and batches pointing at an id that no longer existed, or later at another
organisation's exhibit that reused it.  Ids that point nowhere today are cleared first.

PostgreSQL adds the constraints in place.  SQLite cannot add a constraint to a table, so each table
is rebuilt (SQLite's documented procedure, https://sqlite.org/lang_altertable.html#otheralter): the
migration runs with foreign keys off (``foreign_keys_off``, read by :func:`db.migrations.migrate`), copies the rows into a table of the
new shape, swaps it in, recreates the indexes and checks every foreign key before committing.
"""
from __future__ import annotations

import re

import peewee as pw

TABLES = ("videos", "batches")


def v11_exhibit_links(database: pw.Database) -> None:
    for table in TABLES:
        database.execute_sql(f'UPDATE "{table}" SET exhibit_id = NULL WHERE exhibit_id IS NOT NULL '
                             'AND exhibit_id NOT IN (SELECT id FROM "exhibits")')
        if isinstance(database, pw.SqliteDatabase):
            _rebuild_sqlite(database, table)
        else:
            database.execute_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_exhibit_id_fkey" FOREIGN KEY '
                                 '(exhibit_id) REFERENCES "exhibits" (id) ON DELETE SET NULL')
            database.execute_sql(f'CREATE INDEX IF NOT EXISTS "{table}_exhibit_id" ON "{table}" (exhibit_id)')


def _rebuild_sqlite(database: pw.Database, table: str) -> None:
    create = database.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                  (table,)).fetchone()[0]
    indexes = [row[0] for row in database.execute_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,))]
    new = f"{table}__v11"
    shape = re.sub(rf'^CREATE TABLE "?{table}"?', f'CREATE TABLE "{new}"', create)
    shape = shape.rstrip().rstrip(")") + ', FOREIGN KEY ("exhibit_id") REFERENCES "exhibits" ("id") ON DELETE SET NULL)'
    database.execute_sql(shape)
    database.execute_sql(f'INSERT INTO "{new}" SELECT * FROM "{table}"')
    database.execute_sql(f'DROP TABLE "{table}"')
    database.execute_sql(f'ALTER TABLE "{new}" RENAME TO "{table}"')
    for sql in indexes + [f'CREATE INDEX "{table}_exhibit_id" ON "{table}" ("exhibit_id")']:
        database.execute_sql(sql)
    broken = database.execute_sql(f'PRAGMA foreign_key_check("{table}")').fetchall()
    if broken:
        raise RuntimeError(f"migration 11: {len(broken)} rows of {table} break a foreign key: {broken[:3]}")


v11_exhibit_links.foreign_keys_off = True  # SQLite: a dropped table must not cascade
