"""The close-up pass: a second look when the detector finds no face in a photo.

MediaPipe misses a face that fills the frame (a selfie, a tight portrait crop) and faces in
small images. Set in a flat gray border (so the face fills less of the frame) and, for small
images, upscaled, most of them are found. The passes run in order and stop at the first that
finds a face; boxes are mapped back to the original image and clipped to it. Measured on
close-ups cut from the scene photos (``python -m realtime.research.closeup_eval``, docs/realtime.md):
with the short-range model, a 25 % border after upscaling to 320 px and then a 50 % border
recover 256 of 268 misses (either alone about 237); replicated or mirrored borders and the
full-range model do much worse. A last look at the whole image (shrunk to 320 px) at a threshold
of 0.65 finds a quarter of the FER faces placed in photos that the detector misses. None of the
three puts a box on any of 153 no-face images (lower thresholds do).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .config import DetectorSpec, detector_spec
from .detect import Detection, get_detector

#: larger images are first shrunk (by a whole factor, the fast INTER_AREA path) to at most this
#: on the longer side: the model looks at 128x128 pixels, and a close-up face is big
MAX_SIDE = 320
#: the border's colour (a flat mid-gray: replicated or mirrored borders create streaks that hide the face)
BORDER_RGB = (128, 128, 128)


@dataclass(frozen=True)
class CloseupPass:
    pad: float  # border on each side, as a fraction of the longer side (after upscaling)
    min_side: int = 0  # upscale (INTER_CUBIC) until the shorter side is at least this (at most MAX_SIDE on the longer)
    min_score: float | None = None  # detector threshold of this pass (None: the pipeline's)


#: In order; measured in docs/realtime.md ("Close-ups").
CLOSEUP_PASSES: tuple[CloseupPass, ...] = (CloseupPass(pad=0.25, min_side=320), CloseupPass(pad=0.5),
                                           CloseupPass(pad=0.0, min_score=0.65))


def closeup_spec(spec: DetectorSpec, p: CloseupPass | None = None) -> DetectorSpec:
    """The detector of a close-up pass: MediaPipe short-range on the whole image, at the pass's
    threshold or else ``spec``'s."""
    return detector_spec("short").with_score(p.min_score if p and p.min_score else spec.min_score)


def shrink(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """``rgb`` shrunk by a whole factor until its longer side is at most MAX_SIDE, and the factor."""
    n = -(-max(rgb.shape[:2]) // MAX_SIDE)
    if n <= 1:
        return rgb, 1.0
    return cv2.resize(rgb, None, fx=1.0 / n, fy=1.0 / n, interpolation=cv2.INTER_AREA), 1.0 / n


def transform(rgb: np.ndarray, p: CloseupPass) -> tuple[np.ndarray, float, int]:
    """The image the pass looks at, with its scale factor and border width (in its own pixels)."""
    H, W = rgb.shape[:2]
    k = max(1.0, min(p.min_side / max(1, min(H, W)), MAX_SIDE / max(H, W)))
    img = rgb
    if k > 1.0:
        img = cv2.resize(rgb, (int(round(W * k)), int(round(H * k))), interpolation=cv2.INTER_CUBIC)
    border = int(round(p.pad * max(img.shape[:2])))
    if border:
        img = cv2.copyMakeBorder(img, border, border, border, border, cv2.BORDER_CONSTANT, value=BORDER_RGB)
    return np.ascontiguousarray(img), k, border


def to_original(det: Detection, k: float, border: int, width: int, height: int) -> Detection | None:
    """A detection in the pass's image, mapped back to the original (clipped; None if nothing is left)."""
    x, y, w, h = det.box
    x0, y0 = (x - border) / k, (y - border) / k
    x1, y1 = x0 + w / k, y0 + h / k
    x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(width), x1), min(float(height), y1)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return det.moved((x0, y0, x1 - x0, y1 - y0), lambda p: ((p[0] - border) / k, (p[1] - border) / k))


def detect_closeup(rgb: np.ndarray, spec: DetectorSpec,
                   passes: tuple[CloseupPass, ...] = CLOSEUP_PASSES) -> list[Detection]:
    """Run the close-up passes on ``rgb`` until one finds a face; boxes in ``rgb``'s pixels."""
    H, W = rgb.shape[:2]
    base, k0 = shrink(rgb)
    for p in passes:
        detector = get_detector(closeup_spec(spec, p))
        img, k, border = transform(base, p)
        found = [d for d in (to_original(d, k * k0, border, W, H) for d in detector.detect(img)) if d is not None]
        if found:
            return found
    return []
