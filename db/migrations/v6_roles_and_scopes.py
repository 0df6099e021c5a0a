"""Migration 6 (issue 18): roles and token scopes.

* ``memberships.role``: "member" becomes "manager" (everyone could edit before; the owner keeps
  "owner"); new members are "manager" or "viewer" as their invitation says;
* ``invitations.role``: the role the invitee gets ("manager" for invitations made before);
* ``api_tokens.scope`` ("full" for every existing token: they could do everything) and
  ``api_tokens.exhibit_id``, the one exhibit a "kiosk" token may record at (ON DELETE CASCADE).
"""
from __future__ import annotations

import peewee as pw
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate


def v6_roles_and_scopes(database: pw.Database) -> None:
    class Exhibit(pw.Model):
        class Meta:
            table_name = "exhibits"

    migrator = (SqliteMigrator(database) if isinstance(database, pw.SqliteDatabase)
                else PostgresqlMigrator(database))
    exhibit = pw.ForeignKeyField(Exhibit, field=Exhibit.id, null=True, on_delete="CASCADE")
    migrate(migrator.add_column("invitations", "role", pw.CharField(max_length=16, default="manager")),
            migrator.add_column("api_tokens", "scope", pw.CharField(max_length=16, default="full")),
            migrator.add_column("api_tokens", "exhibit_id", exhibit))
    database.execute_sql("UPDATE memberships SET role = 'manager' WHERE role = 'member'")
