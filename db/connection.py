"""The connection: :func:`init` points the models at SQLite or PostgreSQL and migrates the schema;
:func:`connection` opens one for the calling thread.  Sits above every table module (migrations run here).
"""
from __future__ import annotations

import logging
from pathlib import Path

import peewee as pw
from playhouse import db_url

from db import migrations
from db.base import database

log = logging.getLogger(__name__)


# SQLite with several writer processes (the server and its job workers): WAL lets readers run beside
# the writer; a writer waits up to SQLITE_BUSY_TIMEOUT_S for the write lock instead of failing with
# "database is locked"; and every transaction begins IMMEDIATE (takes the write lock first), so a
# transaction that reads and then writes never has to upgrade a stale read snapshot, the one case
# SQLite fails at once without waiting (issue 18: 3 of 12 photo batches failed that way).
SQLITE_BUSY_TIMEOUT_S = 30


SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "synchronous": "normal",
                  "busy_timeout": SQLITE_BUSY_TIMEOUT_S * 1000}


# --------------------------------------------------------------- connection
def init(url_or_path: str | Path) -> pw.Database:
    """Point the models at a database and bring its schema up to date.

    ``url_or_path`` is either a database URL (``postgresql://user@host:5432/db``,
    ``sqlite:///path``; query parameters become driver options, e.g.
    ``?options=-csearch_path%3Dmyschema``) or a plain filesystem path to a
    SQLite file, whose parent directory is created.  SQLite runs in WAL mode
    with foreign keys on, a busy timeout and write transactions that take the write lock when
    they begin (``BEGIN IMMEDIATE``, see :data:`SQLITE_PRAGMAS`).
    """
    target = str(url_or_path)
    sqlite_path = sqlite_file(target)
    if "://" in target and not target.startswith("sqlite://"):
        real = db_url.connect(target)
    else:
        path = str(sqlite_path) if sqlite_path is not None else ":memory:"
        if sqlite_path is not None:
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        real = pw.SqliteDatabase(path, timeout=SQLITE_BUSY_TIMEOUT_S, lock_type="IMMEDIATE",
                                 pragmas=SQLITE_PRAGMAS)
    old = database.obj
    if old is not None and not old.is_closed():
        old.close()
    database.initialize(real)
    with database.connection_context():
        version = migrations.migrate(real)
    log.info("database ready: %s (schema version %d)", describe(target), version)
    return real


def sqlite_file(url_or_path: str | Path) -> Path | None:
    """The SQLite database file ``url_or_path`` names (None for other databases)."""
    target = str(url_or_path)
    if "://" in target and not target.startswith("sqlite://"):
        return None
    path = target[len("sqlite:///"):] if target.startswith("sqlite:///") else target
    return None if path == ":memory:" else Path(path)


def describe(url_or_path: str) -> str:
    """The database location with any password removed (safe to log)."""
    text = str(url_or_path)
    if "://" in text and "@" in text.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = text.split("://", 1)
        cred, host = rest.split("@", 1)
        return f"{scheme}://{cred.split(':', 1)[0]}@{host.split('?', 1)[0]}"
    return text.split("?", 1)[0]


def connection():
    """Context manager: a connection for this thread (re-entrant)."""
    return database.connection_context()
