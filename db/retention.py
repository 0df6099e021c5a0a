"""Retention (issue 11): forget stored images older than N days, keep the computations'
results and the exhibits' observations (aggregates)."""
from __future__ import annotations

import datetime as _dt

from .models import Computation, database, utcnow


def expire_images(days: float) -> list[str]:
    """Clear the image paths of computations older than ``days``; return the paths (for the
    caller to delete the files)."""
    cutoff = utcnow() - _dt.timedelta(days=float(days))
    with database.atomic():
        old = list(Computation.select().where((Computation.created_at < cutoff) & (
            (Computation.original_path != "") | (Computation.annotated_path != ""))))
        paths = [p for c in old for p in (c.original_path, c.annotated_path) if p]
        if old:
            Computation.update(original_path="", annotated_path="").where(
                Computation.id.in_([c.id for c in old])).execute()
    return paths
