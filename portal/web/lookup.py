"""Get-or-404 for the views: the logged-in user's organisation or exhibit, or 404 (the same answer for
another organisation's object and for none)."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from db import museum


def own_organisation(org_id: int) -> museum.Organisation:
    org = museum.get_organisation(current_user.id, org_id)
    if org is None:
        abort(404)
    return org


def own_exhibit(exhibit_id: int) -> museum.Exhibit:
    exhibit = museum.get_exhibit(current_user.id, exhibit_id)
    if exhibit is None:
        abort(404)
    return exhibit
