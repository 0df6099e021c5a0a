"""The JSON document of one computation and the names its downloads get.

    name = download_name(comp_dict, "pdf")     # emotion-12-mona-lisa-20250101-1200.pdf
    doc = json_document(comp_dict, "alice")     # db.computation_to_dict(...) plus the user

Used by the portal's History, the Gradio interface's downloads and the API, so a computation
downloads under the same name with the same content wherever it is fetched from.
"""
from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from urllib.parse import quote


def slug(text: str, limit: int = 40) -> str:
    """``"Café Ça va!"`` -> ``"café-ça-va"``: lowercase words (letters and digits of any script, accents
    kept) joined by dashes, at most ``limit`` characters."""
    text = unicodedata.normalize("NFC", text or "").lower()
    return re.sub(r"[\W_]+", "-", text).strip("-")[:limit].strip("-")


def ascii_name(name: str) -> str:
    """The ASCII fallback of a download name: accents dropped (``café`` -> ``cafe``), other letters -> ``-``."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"-{2,}", "-", re.sub(r'[^A-Za-z0-9._-]+', "-", plain))


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """RFC 6266 header value: an ASCII ``filename`` for old clients and ``filename*`` (UTF-8) keeping accents."""
    header = f'{disposition}; filename="{ascii_name(name)}"'
    if not name.isascii():
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


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
