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


def file_name(prefix: str, row_id: int, title: str, created: datetime | None, ext: str, fallback: str) -> str:
    """``<prefix>-<id>-<title slug, or fallback>-<YYYYmmdd-HHMM>.<ext>``: every download's name
    (photos: ``emotion-12-mona-lisa-20250101-1200.pdf``; videos: ``video-3-hall-20250101-1200.mp4``)."""
    stamp = created.strftime("%Y%m%d-%H%M") if created is not None else "undated"
    return f"{prefix}-{row_id}-{slug(title or '') or fallback}-{stamp}.{ext}"


def download_name(comp: dict, ext: str) -> str:
    """:func:`file_name` of ``db.computation_to_dict`` output (its ``created_at`` is ISO text)."""
    try:
        created = datetime.fromisoformat(str(comp.get("created_at") or "").rstrip("Z"))
    except ValueError:
        created = None
    return file_name("emotion", comp["id"], comp.get("title") or "", created, ext, comp.get("kind") or "computation")


def json_document(comp: dict, username: str) -> dict:
    """The engine's result plus the computation's metadata and its owner's user name."""
    doc = dict(comp)
    doc["user"] = username
    return doc


def json_bytes(comp: dict, username: str) -> bytes:
    """:func:`json_document` serialised the way every download serves it (UTF-8, indented)."""
    return json.dumps(json_document(comp, username), indent=2, ensure_ascii=False).encode("utf-8")
