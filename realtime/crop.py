"""FER2013-style face crops: detector box -> calibrated square -> gray face at the model's size."""
from __future__ import annotations

import math

import cv2
import numpy as np

from .config import CropCalibration


def crop_square(box: tuple[float, float, float, float], calib: CropCalibration) -> tuple[float, float, float]:
    """The square (cx, cy, side) framed like FER2013 for a detector box (x, y, w, h)."""
    x, y, w, h = box
    side = calib.scale * math.sqrt(max(w, 1e-6) * max(h, 1e-6))
    cx = x + w / 2.0 + calib.dx * w
    cy = y + h / 2.0 + calib.dy * h
    return cx, cy, side


def square_to_box(cx: float, cy: float, side: float) -> tuple[float, float, float, float]:
    return cx - side / 2.0, cy - side / 2.0, side, side


def extract(gray: np.ndarray, cx: float, cy: float, side: float, size: tuple[int, int]) -> np.ndarray:
    """Cut the square centred at (cx, cy) out of ``gray`` (edges replicated where it
    leaves the image) and resize it to ``size`` = (height, width)."""
    H, W = gray.shape[:2]
    s = max(1, int(round(side)))
    x0 = int(round(cx - s / 2.0))
    y0 = int(round(cy - s / 2.0))
    x1, y1 = x0 + s, y0 + s
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if cx1 <= cx0 or cy1 <= cy0:
        patch = np.full((s, s), int(gray.mean()) if gray.size else 0, np.uint8)
    else:
        patch = gray[cy0:cy1, cx0:cx1]
        pads = (cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1)
        if any(pads):
            patch = cv2.copyMakeBorder(patch, *pads, borderType=cv2.BORDER_REPLICATE)
    oh, ow = size
    interp = cv2.INTER_AREA if s > max(oh, ow) else cv2.INTER_LINEAR
    return cv2.resize(patch, (ow, oh), interpolation=interp)
