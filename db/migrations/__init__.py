"""Versioned schema migrations.

Each migration is a function ``(database) -> None`` registered in
``MIGRATIONS`` with a version number.  :func:`migrate` records applied
versions in the ``schema_version`` table and runs the missing ones in order,
each inside its own transaction.  Migrations never use the live models in
:mod:`db.users`, :mod:`db.museum`, ... (those describe the *latest* schema); they use frozen
snapshots or :mod:`playhouse.migrate` operations.

To change the schema: edit the model in its table module *and* add a new numbered
migration module here (``vNN_what.py``) and its line in ``MIGRATIONS`` that brings an existing database to the same shape.
"""
from __future__ import annotations

import contextlib
import logging

import peewee as pw
from playhouse import migrate as pwm

from db.base import SchemaVersion, utcnow
from db.migrations.v3_museum import create_v3
from db.migrations.v4_jobs_videos import v4_jobs_videos
from db.migrations.v5_video_observations import v5_video_observations
from db.migrations.v6_roles_and_scopes import v6_roles_and_scopes
from db.migrations.v7_uncertain_observations import v7_uncertain_observations
from db.migrations.v8_visits import v8_visits
from db.migrations.v9_visit_suggestions import v9_visit_suggestions
from db.migrations.v10_saved_comparisons import v10_saved_comparisons
from db.migrations.v11_exhibit_links import v11_exhibit_links

log = logging.getLogger(__name__)


def _v1_initial(database: pw.Database) -> None:
    """Users and computations, as first released (frozen snapshot)."""

    class Base(pw.Model):
        class Meta:
            pass

    class User(Base):
        username = pw.CharField(max_length=40, unique=True)
        email = pw.CharField(max_length=254, unique=True)
        password_hash = pw.CharField(max_length=255)
        full_name = pw.CharField(max_length=100, default="")
        organisation = pw.CharField(max_length=100, default="")
        created_at = pw.DateTimeField(default=utcnow)
        computation_count = pw.IntegerField(default=0)
        auth_token = pw.CharField(max_length=64)

        class Meta:
            table_name = "users"

    class Computation(Base):
        owner = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
        kind = pw.CharField(max_length=16)
        created_at = pw.DateTimeField(default=utcnow, index=True)
        title = pw.CharField(max_length=200, default="")
        exhibit = pw.CharField(max_length=200, default="")
        notes = pw.TextField(default="")
        consent = pw.BooleanField(default=False)
        original_path = pw.CharField(max_length=500, default="")
        annotated_path = pw.CharField(max_length=500, default="")
        result_json = pw.TextField(default="{}")
        faces_found = pw.IntegerField(default=0)
        dominant_emotion = pw.CharField(max_length=32, null=True)
        timings_json = pw.TextField(default="{}")
        model_version = pw.CharField(max_length=100, default="")

        class Meta:
            table_name = "computations"

    with database.bind_ctx([User, Computation]):
        database.create_tables([User, Computation])
    # Usernames are unique whatever their case ("Alice" and "alice" clash).
    database.execute_sql(
        "CREATE UNIQUE INDEX users_username_lower ON users (LOWER(username))")


def _v2_last_login(database: pw.Database) -> None:
    """Remember when each user last logged in (shown on the account page)."""
    migrator = pwm.SchemaMigrator.from_database(database)
    pwm.migrate(migrator.add_column("users", "last_login_at", pw.DateTimeField(null=True)))


MIGRATIONS: list[tuple[int, str, callable]] = [
    (1, "initial users and computations", _v1_initial),
    (2, "users.last_login_at", _v2_last_login),
    (3, "museum: organisations, exhibits, sessions, observations, api tokens", create_v3),
    (4, "jobs, videos, photo batches", v4_jobs_videos),
    (5, "observations.video_id (videos attached to an exhibit)", v5_video_observations),
    (6, "roles owner/manager/viewer, invitation roles, token scopes", v6_roles_and_scopes),
    (7, "observations.uncertain (faces whose answer the model marked as doubtful)", v7_uncertain_observations),
    (8, "visits and visit_sessions (opted-in visit codes)", v8_visits),
    (9, "visit_suggestions and suggestion_outcomes (suggested, then visited next)", v9_visit_suggestions),
    (10, "saved_comparisons (before/after comparisons kept for the printable report)", v10_saved_comparisons),
    (11, "videos.exhibit_id and batches.exhibit_id as foreign keys to exhibits", v11_exhibit_links),
]
LATEST_VERSION = MIGRATIONS[-1][0]


def current_version(database: pw.Database) -> int:
    """Highest applied migration (0 for an empty database)."""
    with database.bind_ctx([SchemaVersion]):
        if not database.table_exists(SchemaVersion._meta.table_name):
            return 0
        return SchemaVersion.select(pw.fn.MAX(SchemaVersion.version)).scalar() or 0


@contextlib.contextmanager
def _foreign_keys_off(database: pw.Database, wanted: bool):
    """SQLite's foreign keys off around a migration that rebuilds tables (it checks them itself)."""
    off = wanted and isinstance(database, pw.SqliteDatabase)
    if off:
        database.execute_sql("PRAGMA foreign_keys = OFF")  # outside any transaction, or it is ignored
    try:
        yield
    finally:
        if off:
            database.execute_sql("PRAGMA foreign_keys = ON")


def migrate(database: pw.Database, target: int | None = None) -> int:
    """Apply every migration newer than the database, up to ``target``.

    Returns the version the database is at afterwards.
    """
    target = LATEST_VERSION if target is None else target
    with database.bind_ctx([SchemaVersion]):
        database.create_tables([SchemaVersion], safe=True)
        version = current_version(database)
        for number, name, func in MIGRATIONS:
            if number <= version or number > target:
                continue
            log.info("applying schema migration %d: %s", number, name)
            with _foreign_keys_off(database, getattr(func, "foreign_keys_off", False)), database.atomic():
                func(database)
                SchemaVersion.create(version=number, name=name,
                                     applied_at=utcnow())
            version = number
    return version
