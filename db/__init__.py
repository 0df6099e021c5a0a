"""Database layer (peewee) shared by the portal and the real-time app.

Imports nothing else of the project.  Call :func:`init` once at start-up
with a database URL or a SQLite file path; it creates or migrates the
schema.  Then use the plain functions below inside ``with connection():``.
"""
from db.api import (  # noqa: F401
    DuplicateUser, Page, TextTooLong, check_text_lengths, computation_ids, computation_to_dict,
    connection, count_computations, create_user, delete_computation, delete_user, describe,
    get_computation, get_user, get_user_by_email, get_user_by_login, get_user_by_username,
    init, list_computations, new_auth_token, record_computation, sqlite_file, stored_paths,
    update_user, valid_id)
from db.migrations import LATEST_VERSION, current_version  # noqa: F401
from db.models import KINDS, TEXT_LIMITS, Computation, User, database  # noqa: F401
from db import jobs, videos  # noqa: F401,E402  (issue 12: jobs, videos, photo batches; migration 4)
