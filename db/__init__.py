"""Database layer (peewee) shared by the portal and the real-time app: one module per aggregate.

Imports nothing else of the project.  Call :func:`init` once at start-up with a database URL or a
SQLite file path; it creates or migrates the schema.  Then use the plain functions inside
``with connection():``.

    base          the database proxy, BaseModel, utcnow, iso, valid_id/MAX_ID, Page, EMOTIONS
    connection    init, connection, describe, sqlite_file (above every table: migrations run there)
    users         User                        computations  Computation (photos, webcam captures)
    museum        organisations, members, invitations, exhibits
    tokens        API tokens                  jobs, videos  background jobs, videos, photo batches
    observations  recording sessions, observations (above museum, videos and computations)
    visits, visit_outcomes, comparisons, retention          issue 20/21 tables; retention across them
    migrations/   numbered migrations, one module each
"""
from db.base import EMOTIONS, MAX_ID, Page, database, iso, utcnow, valid_id  # noqa: F401
from db.connection import connection, describe, init, sqlite_file  # noqa: F401
from db.users import (DuplicateUser, User, create_user, delete_user, get_user, get_user_by_email,  # noqa: F401
                      get_user_by_login, get_user_by_username, new_auth_token, update_user)
from db.computations import (KINDS, TEXT_LIMITS, Computation, TextTooLong, check_text_lengths,  # noqa: F401
                             computation_ids, computation_to_dict, count_computations, delete_computation,
                             get_computation, list_computations, owned_paths, record_computation, stored_paths)
from db.migrations import LATEST_VERSION, current_version  # noqa: F401
from db import jobs, videos  # noqa: F401,E402
