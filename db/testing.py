"""Helpers for test suites: a throw-away PostgreSQL schema per test.

    with temporary_postgres_schema(url) as schema_url:
        db.init(schema_url)

``url`` defaults to env ``TEST_DATABASE_URL`` or
``postgresql://postgres@127.0.0.1:5432/test``.  :func:`postgres_available`
says whether the server answers, so suites can skip cleanly.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from urllib.parse import quote

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def test_database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_URL)


def _connect(url: str):
    import psycopg2
    return psycopg2.connect(url, connect_timeout=3)


def postgres_available(url: str | None = None) -> bool:
    try:
        _connect(url or test_database_url()).close()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def temporary_postgres_schema(url: str | None = None, prefix: str = "t"):
    """Create a uniquely named schema, yield a URL whose connections use it
    (``search_path``), drop the schema (cascade) afterwards."""
    url = url or test_database_url()
    schema = f"{prefix}_{secrets.token_hex(6)}"
    conn = _connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in url else "?"
        yield f"{url}{sep}options={quote('-csearch_path=' + schema)}"
    finally:
        from db.base import database
        if database.obj is not None and not database.obj.is_closed():
            database.obj.close()
        with conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.close()
