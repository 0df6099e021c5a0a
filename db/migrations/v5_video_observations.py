"""Migration 5: observations of uploaded videos (issue 12): ``observations.video_id``, a
nullable reference to ``videos`` (ON DELETE CASCADE: deleting a video deletes its observations)."""
from __future__ import annotations

import peewee as pw
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate


def v5_video_observations(database: pw.Database) -> None:
    class Video(pw.Model):
        class Meta:
            table_name = "videos"

    field = pw.ForeignKeyField(Video, field=Video.id, null=True, on_delete="CASCADE")
    migrator = (SqliteMigrator(database) if isinstance(database, pw.SqliteDatabase)
                else PostgresqlMigrator(database))
    migrate(migrator.add_column("observations", "video_id", field))  # indexed, as foreign keys are
