"""A confirmation step before deleting, that works without JavaScript.

The Delete buttons post to the delete route; without ``confirm=yes`` in the form the route answers
this page (what will be deleted, a *Delete* button that posts again with ``confirm=yes``, and a
*Cancel* link) and deletes nothing, so one stray click never loses data.
"""
from __future__ import annotations

from flask import render_template, request


def confirmed() -> bool:
    """True when the form carries the confirmation (the second step)."""
    return request.form.get("confirm") == "yes"


def confirm_page(what: str, detail: str, cancel: str, keep: dict | None = None) -> str:
    """The page asking to confirm deleting ``what`` (posting back to the same URL)."""
    return render_template("confirm_delete.html", what=what, detail=detail, action=request.path,
                           cancel=cancel, keep=keep or {})
