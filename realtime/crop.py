"""FER2013-style face crops: detector box -> calibrated square -> gray face at the model's size.

Upright faces: FER2013's faces are roughly upright, people tilt their heads. :func:`eye_roll` reads the
roll from the detector's eye keypoints; :func:`upright_square` and :func:`extract_upright` cut the same
calibrated square turned with the face (``cv2.warpAffine`` around the face centre), so the crop's eye
line is level. ``PipelineConfig.upright`` switches it off (for measurement).
"""
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


#: rolls below this (degrees) are left alone: keypoint noise on an upright face is not worth a resampling
MIN_ROLL_DEG = 3.0
#: rolls above this are not trusted (swapped or misplaced keypoints): the crop stays axis-aligned
MAX_ROLL_DEG = 60.0


def eye_roll(eyes: tuple[tuple[float, float], tuple[float, float]] | None) -> float:
    """Degrees the eye line is turned from level (clockwise on screen positive, image y down), from
    (the person's right eye, their left eye); 0 when unknown, below MIN_ROLL_DEG or above MAX_ROLL_DEG."""
    if not eyes:
        return 0.0
    (rx, ry), (lx, ly) = eyes
    if math.hypot(lx - rx, ly - ry) < 1e-6:
        return 0.0
    roll = math.degrees(math.atan2(ly - ry, lx - rx))
    return roll if MIN_ROLL_DEG <= abs(roll) <= MAX_ROLL_DEG else 0.0


def upright_square(box: tuple[float, float, float, float], calib: CropCalibration,
                   roll: float) -> tuple[float, float, float]:
    """:func:`crop_square` for a face rolled by ``roll`` degrees: the calibration's offset from the
    box centre is taken along the face's own axes (its "up" is turned with it)."""
    x, y, w, h = box
    side = calib.scale * math.sqrt(max(w, 1e-6) * max(h, 1e-6))
    a = math.radians(roll)
    ox, oy = calib.dx * w, calib.dy * h
    return (x + w / 2.0 + ox * math.cos(a) - oy * math.sin(a),
            y + h / 2.0 + ox * math.sin(a) + oy * math.cos(a), side)


def crop_to_image(cx: float, cy: float, side: float, roll: float, size: tuple[int, int]) -> np.ndarray:
    """The 2x3 affine map from crop pixels (of a ``size`` = (height, width) crop) to image pixels
    (OpenCV's convention: a pixel's index is its centre) of the square turned by ``roll`` degrees."""
    oh, ow = size
    a = math.radians(roll)
    kx, ky = side / ow, side / oh
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    lin = rot @ np.diag([kx, ky])
    centre_in = np.array([(ow - 1) / 2.0, (oh - 1) / 2.0])
    shift = np.array([cx - 0.5, cy - 0.5]) - lin @ centre_in
    return np.hstack([lin, shift[:, None]])


def image_to_crop(cx: float, cy: float, side: float, roll: float, size: tuple[int, int]) -> np.ndarray:
    """The inverse of :func:`crop_to_image` (image pixels -> crop pixels)."""
    return cv2.invertAffineTransform(crop_to_image(cx, cy, side, roll, size))


def extract_upright(gray: np.ndarray, cx: float, cy: float, side: float, size: tuple[int, int],
                    roll: float) -> np.ndarray:
    """:func:`extract` of the square turned by ``roll`` degrees (0: exactly :func:`extract`): warped at
    its own resolution (edges replicated), then resized like :func:`extract` (INTER_AREA when shrinking)."""
    if not roll:
        return extract(gray, cx, cy, side, size)
    s = max(1, int(round(side)))
    native = crop_to_image(cx, cy, s, roll, (s, s))
    patch = cv2.warpAffine(gray, native, (s, s), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    oh, ow = size
    interp = cv2.INTER_AREA if s > max(oh, ow) else cv2.INTER_LINEAR
    return cv2.resize(patch, (ow, oh), interpolation=interp)
