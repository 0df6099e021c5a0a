"""The JSON document of one computation and the names its downloads get.

    name = download_name(comp_dict, "pdf")     # emotion-12-mona-lisa-20250101-1200.pdf
    doc = json_document(comp_dict, "alice")     # db.computation_to_dict(...) plus the user

Used by the portal's History, the Gradio interface's downloads and the API, so a computation
downloads under the same name with the same content wherever it is fetched from.
"""
from __future__ import annotations

import json
import re
from datetime import datetime


def slug(text: str, limit: int = 40) -> str:
    """``"Mona Lisa!"`` -> ``"mona-lisa"`` (lowercase ASCII words joined by dashes, at most ``limit``)."""
    return re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")[:limit].strip("-")


def download_name(comp: dict, ext: str) -> str:
    """``emotion-<id>-<title slug, or the kind>-<YYYYmmdd-HHMM>.<ext>`` for ``db.computation_to_dict`` output."""
    created = str(comp.get("created_at") or "").rstrip("Z")
    try:
        stamp = datetime.fromisoformat(created).strftime("%Y%m%d-%H%M")
    except ValueError:
        stamp = "undated"
    kind = comp.get("kind") or "computation"
    return f"emotion-{comp['id']}-{slug(comp.get('title') or '') or kind}-{stamp}.{ext}"


def json_document(comp: dict, username: str) -> dict:
    """The engine's result plus the computation's metadata and its owner's user name."""
    doc = dict(comp)
    doc["user"] = username
    return doc


def json_bytes(comp: dict, username: str) -> bytes:
    """:func:`json_document` serialised the way every download serves it (UTF-8, indented)."""
    return json.dumps(json_document(comp, username), indent=2, ensure_ascii=False).encode("utf-8")
