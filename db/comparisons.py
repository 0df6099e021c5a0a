"""Before/after comparisons a curator saved (issue 20): an exhibit and the first day of its
"after" period, listed in the organisation's printable report.  Created by migration 10
(:mod:`db.migrations.v10_saved_comparisons`); deleted with their exhibit or organisation (foreign keys).

    saved = save_comparison(exhibit, split_day, user_id)     # the same pair twice: one row
    rows = comparisons_of(org_id)                            # by exhibit name, then day
    delete_comparison(org_id, comparison_id)                 # False: not this organisation's
"""
from __future__ import annotations

import datetime as _dt
import logging

import peewee as pw

from db.base import BaseModel, utcnow
from db.museum import Exhibit, Organisation
from db.users import User

log = logging.getLogger(__name__)


class SavedComparison(BaseModel):
    organisation = pw.ForeignKeyField(Organisation, on_delete="CASCADE", index=True)
    exhibit = pw.ForeignKeyField(Exhibit, on_delete="CASCADE")
    split = pw.DateField()
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "saved_comparisons"
        indexes = ((("exhibit", "split"), True),)


MODELS = [SavedComparison]


def save_comparison(exhibit: Exhibit, split: _dt.date, user_id: int | None) -> SavedComparison:
    """Save ``exhibit`` compared at ``split`` (kept once per exhibit and day)."""
    saved, created = SavedComparison.get_or_create(
        exhibit=exhibit.id, split=split,
        defaults={"organisation": exhibit.organisation_id, "created_by": user_id})
    if created:
        log.info("comparison saved id=%d exhibit_id=%d split=%s", saved.id, exhibit.id, split)
    return saved


def comparisons_of(org_id: int) -> list[SavedComparison]:
    return list(SavedComparison.select(SavedComparison, Exhibit).join(Exhibit)
                .where(SavedComparison.organisation == org_id)
                .order_by(Exhibit.name, SavedComparison.split))


def delete_comparison(org_id: int, comparison_id: int) -> bool:
    deleted = SavedComparison.delete().where((SavedComparison.id == comparison_id)
                                             & (SavedComparison.organisation == org_id)).execute()
    return bool(deleted)
