"""Migration 4: jobs, videos, photo batches (issue 12). A frozen snapshot of db/jobs.py and
db/videos.py as first released: later changes get their own migration."""
from __future__ import annotations

import peewee as pw

from db.base import utcnow


def v4_jobs_videos(database: pw.Database) -> None:
    class Base(pw.Model):
        pass

    class User(Base):
        class Meta:
            table_name = "users"

    class Computation(Base):
        class Meta:
            table_name = "computations"

    class Job(Base):
        owner = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
        kind = pw.CharField(max_length=16)
        status = pw.CharField(max_length=16, default="queued", index=True)
        progress = pw.FloatField(default=0.0)
        error = pw.TextField(null=True)
        attempts = pw.IntegerField(default=0)
        created_at = pw.DateTimeField(default=utcnow)
        started_at = pw.DateTimeField(null=True)
        finished_at = pw.DateTimeField(null=True)
        heartbeat_at = pw.DateTimeField(null=True)
        worker = pw.CharField(max_length=200, null=True)
        params_json = pw.TextField(default="{}")
        result_json = pw.TextField(default="{}")

        class Meta:
            table_name = "jobs"

    class Shared(Base):  # fields common to videos and batches
        owner = pw.ForeignKeyField(User, on_delete="CASCADE", index=True)
        job = pw.ForeignKeyField(Job, null=True, on_delete="SET NULL")
        created_at = pw.DateTimeField(default=utcnow, index=True)
        title = pw.CharField(max_length=200, default="")
        exhibit_id = pw.IntegerField(null=True)
        exhibit = pw.CharField(max_length=200, default="")
        notes = pw.TextField(default="")
        consent = pw.BooleanField(default=False)
        folder = pw.CharField(max_length=500)

    class Video(Shared):
        filename = pw.CharField(max_length=255, default="")
        original_path = pw.CharField(max_length=500, default="")
        annotated_path = pw.CharField(max_length=500, default="")
        result_path = pw.CharField(max_length=500, default="")
        csv_path = pw.CharField(max_length=500, default="")
        duration_s = pw.FloatField(null=True)
        fps = pw.FloatField(null=True)
        width = pw.IntegerField(null=True)
        height = pw.IntegerField(null=True)
        frames = pw.IntegerField(null=True)
        frames_analysed = pw.IntegerField(null=True)
        tracks = pw.IntegerField(null=True)
        dominant_emotion = pw.CharField(max_length=32, null=True)
        sample_fps = pw.FloatField(null=True)
        preset = pw.CharField(max_length=32, default="default")

        class Meta:
            table_name = "videos"

    class Batch(Shared):
        photos = pw.IntegerField(default=0)
        summary_csv_path = pw.CharField(max_length=500, default="")

        class Meta:
            table_name = "batches"

    class BatchItem(Base):
        batch = pw.ForeignKeyField(Batch, on_delete="CASCADE", index=True)
        computation = pw.ForeignKeyField(Computation, on_delete="CASCADE")
        name = pw.CharField(max_length=255, default="")

        class Meta:
            table_name = "batch_items"

    tables = [Job, Video, Batch, BatchItem]
    with database.bind_ctx([User, Computation, *tables]):
        database.create_tables(tables)
