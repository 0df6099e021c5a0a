"""A QR code of a visit's URL (issue 21), drawn server-side by segno (pure Python) as a PNG
``data:`` URI for an ``<img>`` (the portal's CSP allows ``img-src data:``; no script).  The URL
holds the visit code: it is never logged.

    src = png_data_uri("https://museum.example/visit/K7QM-4TRW-9XHD")   # None: cannot be drawn
"""
from __future__ import annotations

import logging

import segno

log = logging.getLogger(__name__)
SCALE, BORDER = 6, 4  # pixels per module; the quiet zone of 4 modules scanners need


def png_data_uri(text: str) -> str | None:
    """The QR code (error correction M, never a micro QR) of ``text`` as a PNG data URI; None
    when the text is too long for a QR code (the pages then show the URL in words only)."""
    try:
        qr = segno.make(text, error="m", micro=False, boost_error=False)
    except (segno.DataOverflowError, ValueError) as exc:
        log.warning("no QR code: %s (%d characters)", type(exc).__name__, len(text))
        return None
    return qr.png_data_uri(scale=SCALE, border=BORDER, dark="#000", light="#fff")
