"""Crop-margin calibration: how a detector's boxes relate to FER2013's framing.

Each FER2013 face (a tight, registered 48x48 crop) is upscaled, placed in the
middle of a larger canvas (edges replicated), and given to the detector. The
known FER frame F (a square of side S centred at C) is compared to the detector
box B (x, y, w, h):

    scale = S / sqrt(w*h),  dx = (C.x - B.cx) / w,  dy = (C.y - B.cy) / h

The medians over all detected faces are the calibration stored in realtime/config.py.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

from ..config import DETECTORS, CropCalibration, detector_spec
from ..boxes import iou
from ..crop import crop_square, square_to_box
from ..detect import MediaPipeDetector
from .ferdata import load_fer_faces

log = logging.getLogger(__name__)


@dataclass
class CalibrationResult:
    detector: str
    n_faces: int
    n_detected: int
    calibration: CropCalibration
    spread: dict[str, tuple[float, float]]  # name -> (p25, p75)
    aspect: float  # median h / w of the detector boxes
    iou_uncalibrated: float  # median IoU of the raw box with the FER frame
    iou_calibrated: float  # median IoU of the calibrated crop with the FER frame


def place_face(face: np.ndarray, upscale: int = 4, pad: float = 1.0) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """FER face -> RGB canvas with the face upscaled in the middle; returns (canvas, frame box)."""
    S = face.shape[0] * upscale
    big = cv2.resize(face, (S, S), interpolation=cv2.INTER_CUBIC)
    p = int(round(S * pad))
    canvas = cv2.copyMakeBorder(big, p, p, p, p, borderType=cv2.BORDER_REPLICATE)
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2RGB), (float(p), float(p), float(S), float(S))


def calibrate(detector_name: str, faces: np.ndarray, upscale: int = 4, pad: float = 1.0,
              min_score: float = 0.5) -> CalibrationResult:
    spec = detector_spec(detector_name).with_score(min_score)
    det = MediaPipeDetector(spec)
    rows = []
    for face in faces:
        canvas, frame = place_face(face, upscale, pad)
        fx, fy, S, _ = frame
        found = det.detect(canvas)
        if not found:
            continue
        best = max(found, key=lambda d: iou(d.box, frame))
        if iou(best.box, frame) < 0.2:
            continue
        x, y, w, h = best.box
        rows.append((S / math.sqrt(w * h), (fx + S / 2 - (x + w / 2)) / w, (fy + S / 2 - (y + h / 2)) / h,
                     h / w, iou(best.box, frame), best.box))
    det.close()
    if not rows:
        raise RuntimeError(f"{detector_name}: no face detected in {len(faces)} calibration images")
    arr = np.array([r[:5] for r in rows])
    med = np.median(arr, axis=0)
    calib = CropCalibration(scale=round(float(med[0]), 3), dx=round(float(med[1]), 3), dy=round(float(med[2]), 3))
    # IoU of the calibrated crop with the frame, per detected face
    frame = (float(int(round(48 * upscale * pad))),) * 2 + (48.0 * upscale,) * 2
    ious = [iou(square_to_box(*crop_square(r[5], calib)), frame) for r in rows]
    q = lambda i: (round(float(np.percentile(arr[:, i], 25)), 3), round(float(np.percentile(arr[:, i], 75)), 3))  # noqa: E731
    return CalibrationResult(
        detector=detector_name, n_faces=len(faces), n_detected=len(rows), calibration=calib,
        spread={"scale": q(0), "dx": q(1), "dy": q(2)}, aspect=round(float(med[3]), 3),
        iou_uncalibrated=round(float(med[4]), 3), iou_calibrated=round(float(np.median(ious)), 3),
    )


def run(n: int = 300, upscale: int = 4, detectors: list[str] | None = None) -> str:
    """Markdown report of the calibration for each detector."""
    faces, _ = load_fer_faces("PublicTest", limit=n)
    lines = [
        f"Calibration on {len(faces)} FER2013 PublicTest faces (balanced over the classes), upscaled x{upscale} "
        f"({48 * upscale} px) and centred on a canvas 3x as wide (edges replicated); detector threshold 0.5.",
        "",
        "| detector | detected | scale (p25-p75) | dx (p25-p75) | dy (p25-p75) | box h/w | IoU raw box | IoU calibrated crop |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in detectors or list(DETECTORS):
        t0 = time.perf_counter()
        r = calibrate(name, faces, upscale=upscale)
        c, s = r.calibration, r.spread
        lines.append(
            f"| {name} | {r.n_detected}/{r.n_faces} | {c.scale} ({s['scale'][0]}-{s['scale'][1]}) | "
            f"{c.dx} ({s['dx'][0]}-{s['dx'][1]}) | {c.dy} ({s['dy'][0]}-{s['dy'][1]}) | {r.aspect} | "
            f"{r.iou_uncalibrated} | {r.iou_calibrated} |"
        )
        log.info("%s calibrated in %.1f s: %s", name, time.perf_counter() - t0, c)
    return "\n".join(lines)
