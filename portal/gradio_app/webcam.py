"""The webcam input of the live tab, with limits checked before a frame is decoded.

    webcam = WebcamImage.limited(max_bytes=settings.max_frame_bytes,
                                 max_pixels=settings.max_frame_pixels, sources=["webcam"], ...)

The browser sends each frame as a ``data:image/jpeg;base64,...`` URL. Gradio's own
``gr.Image`` decodes it fully before any check (a 258 KB JPEG declaring 9000x9000 pixels
becomes ~240 MB of RGB). Here the encoded size is checked first, then the pixel count from
the image header (:func:`realtime.io.load_image`), and only then is the frame decoded.
A frame given as a file path (webcam frames never are) is refused unopened.
"""
from __future__ import annotations

import base64
import binascii
import logging

import gradio as gr
import numpy as np

from realtime import ImageError, load_image

log = logging.getLogger(__name__)


class WebcamImage(gr.Image):
    """``gr.Image`` (same front end: ``is_template``) whose input is checked before decoding."""

    is_template = True
    # gr.Image's own __init__ is kept: Gradio sends the front end the arguments it names
    max_bytes: int = 1024 * 1024
    max_pixels: int = 1920 * 1080

    @classmethod
    def limited(cls, *, max_bytes: int, max_pixels: int, **image_options) -> "WebcamImage":
        """A webcam input refusing frames over ``max_bytes`` encoded or ``max_pixels``."""
        webcam = cls(**image_options)
        webcam.max_bytes, webcam.max_pixels = max_bytes, max_pixels
        return webcam

    def preprocess(self, payload) -> np.ndarray | None:
        if payload is None:
            return None
        url = getattr(payload, "url", None) or ""
        if not url.startswith("data:"):
            log.warning("webcam frame that is not a data URL refused")
            raise gr.Error("The webcam frame was not understood; reload the page.")
        encoded = url.rsplit(",", 1)[-1]
        if len(encoded) * 3 // 4 > self.max_bytes:
            raise gr.Error(f"The webcam frame is too large ({len(encoded) * 3 // 4:,} bytes; "
                           f"the limit is {self.max_bytes:,}).")
        try:
            return load_image(base64.b64decode(encoded, validate=False), self.max_pixels).rgb
        except (ImageError, binascii.Error, ValueError) as exc:
            log.info("webcam frame refused: %s", exc)
            raise gr.Error(f"The webcam frame cannot be used: {exc}.") from None
