"""Recording frames (kiosk pages and API camera sessions): their size checked from the image
header before anything is decoded, and their analyses bounded for the whole process.

    gate = FrameGate(max_pixels=1920 * 1080, max_concurrent=4, wait_s=0.5)
    gate.check(data)              # ImageTooLargeError from the header alone (nothing decoded)
    with gate.slot():             # ServerBusy (retry_after) when every analysis slot is taken
        analysis = stream.process(gate.decode(data))

Issue 18: frames were accepted up to 40 megapixels (the photo-upload limit) and every request
decoded and analysed its frame at once, so 16 sessions posting 6000x6000 JPEGs took the server
from 0.4 to 8.8 GB.  A webcam frame is at most 1920x1080 (FRAME_MAX_PIXELS), and at most
FRAME_ANALYSES frames are decoded and analysed at the same time, all users together; a frame
that finds them taken waits up to FRAME_WAIT_S, then is refused (the caller answers 503 with
``Retry-After``) instead of queueing without bound.  No web framework here: the kiosk (Flask)
and the API (FastAPI) share one gate, built by the app factory.
"""
from __future__ import annotations

import io
import logging
import threading
from contextlib import contextmanager

from PIL import Image

from realtime import DecodedImage, ImageTooLargeError, load_image

log = logging.getLogger(__name__)


class ServerBusy(Exception):
    """Every frame-analysis slot is taken; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


class FrameGate:
    def __init__(self, max_pixels: int, max_concurrent: int, wait_s: float = 0.5):
        self.max_pixels, self.max_concurrent, self.wait_s = max_pixels, max_concurrent, wait_s
        self._slots = threading.BoundedSemaphore(max_concurrent)

    @classmethod
    def from_config(cls, config) -> "FrameGate":
        """From the portal :class:`~portal.config.Config` (FRAME_MAX_PIXELS, FRAME_ANALYSES, FRAME_WAIT_S)."""
        return cls(config.frame_max_pixels, config.frame_analyses, config.frame_wait_s)

    def limit_text(self) -> str:
        return f"{self.max_pixels:,} pixels (a 1920x1080 webcam frame is 2,073,600)"

    def check(self, data: bytes) -> None:
        """Refuse a frame whose header declares more than ``max_pixels``; reads the header only.
        Data that is no image passes here: :meth:`decode` says what is wrong with it."""
        try:
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
        except Image.DecompressionBombError:
            raise ImageTooLargeError(f"the frame declares far more pixels than the limit of "
                                     f"{self.limit_text()}; send smaller frames") from None
        except (OSError, ValueError, SyntaxError, EOFError):
            return
        if width * height > self.max_pixels:
            raise ImageTooLargeError(f"the frame is {width}x{height} = {width * height:,} pixels, above the "
                                     f"limit of {self.limit_text()}; send smaller frames")

    def decode(self, data: bytes) -> DecodedImage:
        """The frame as RGB (:func:`realtime.io.load_image`, its size checked again from the header)."""
        return load_image(data, self.max_pixels)

    @contextmanager
    def slot(self):
        """Hold one of the ``max_concurrent`` analysis slots; raise :class:`ServerBusy` when none
        frees up within ``wait_s``."""
        if not self._slots.acquire(timeout=self.wait_s):
            log.warning("frame refused: all %d frame analyses busy", self.max_concurrent)
            raise ServerBusy(f"the server is analysing {self.max_concurrent} frames already (its limit); "
                             "send this frame again in a second")
        try:
            yield
        finally:
            self._slots.release()
