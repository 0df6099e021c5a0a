"""Migration 7 (issue 17): ``observations.uncertain``, a face whose answer the model marked as
doubtful (no emotion reached the threshold of its uncertainty rule); exhibit analytics count such
faces as a share of their own, never as their top class.

Observations stored before this migration are marked by the rule the app applied to the models of
that time (no ``uncertainty`` block in their metadata: the documented default, top probability
below 0.5), so old and new faces are counted the same way. The number is frozen here on purpose:
a migration describes the data as it was, whatever the default becomes later.
"""
from __future__ import annotations

import functools
import operator

import peewee as pw
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
THRESHOLD_BEFORE = 0.5  # the default rule when this migration was written (realtime/contract.py)


def v7_uncertain_observations(database: pw.Database) -> None:
    migrator = (SqliteMigrator(database) if isinstance(database, pw.SqliteDatabase)
                else PostgresqlMigrator(database))
    migrate(migrator.add_column("observations", "uncertain", pw.BooleanField(default=False)))
    table = pw.Table("observations", ["uncertain", *(f"p_{e}" for e in EMOTIONS)]).bind(database)
    doubtful = functools.reduce(operator.and_, [getattr(table, f"p_{e}") < THRESHOLD_BEFORE for e in EMOTIONS])
    table.update({table.uncertain: True}).where(doubtful).execute()
