"""Face detection backends. A detector takes an RGB uint8 image and returns boxes in pixels."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from typing import Collection

import numpy as np

from .boxes import fraction_inside, iou
from .config import DetectorSpec, detector_spec

log = logging.getLogger(__name__)

#: tiles smaller than this are not run (nothing to find; an empty tile breaks MediaPipe's graph)
MIN_TILE_PX = 8


class DetectorError(RuntimeError):
    """The detector failed on an image; it has been rebuilt and serves the next call."""


#: MediaPipe's keypoints, in its order (``right_eye`` is the person's right eye: the left one in the image)
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion")

Point = tuple[float, float]


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x, y, w, h in pixels, clipped to the image
    score: float
    tile: int = -1  # the tile that found it (tiled detectors), -1: the whole image
    keypoints: tuple[Point, ...] = ()  # (x, y) pixels in KEYPOINTS order (not clipped); () when unknown

    @property
    def eyes(self) -> tuple[Point, Point] | None:
        """(the person's right eye, their left eye): image left and right for a face seen from the front."""
        return (self.keypoints[0], self.keypoints[1]) if len(self.keypoints) >= 2 else None

    def moved(self, box: tuple[float, float, float, float], transform) -> "Detection":
        """This detection with ``box`` and every keypoint mapped by ``transform((x, y)) -> (x, y)``."""
        return replace(self, box=box, keypoints=tuple(transform(p) for p in self.keypoints))


def tile_grid(width: int, height: int, n: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """The ``n`` x ``n`` overlapping tiles (x0, y0, x1, y1) of a tiled detector, row by row."""
    tw, th = width / (n - (n - 1) * overlap), height / (n - (n - 1) * overlap)
    tiles = []
    for i in range(n):
        for j in range(n):
            x0, y0 = int(j * tw * (1 - overlap)), int(i * th * (1 - overlap))
            tiles.append((x0, y0, min(width, int(round(x0 + tw))), min(height, int(round(y0 + th)))))
    return tiles


class MediaPipeDetector:
    """``mediapipe.solutions.face_detection``; the tflite models ship inside the wheel.

    A MediaPipe graph is not re-entrant, so calls are serialised with a lock.
    """

    def __init__(self, spec: DetectorSpec):
        import mediapipe as mp  # imported lazily: it is slow to import

        self.spec = spec
        self._lock = threading.Lock()
        self._solution = mp.solutions.face_detection
        self._mp = self._build()
        log.info("face detector %s ready (model_selection=%d, min_score=%.2f)",
                 spec.name, spec.model_selection, spec.min_score)

    def _build(self):
        return self._solution.FaceDetection(model_selection=self.spec.model_selection,
                                            min_detection_confidence=self.spec.min_score)

    @property
    def n_tiles(self) -> int:
        return self.spec.tiles ** 2 if self.spec.tiles >= 2 else 0

    def detect(self, rgb: np.ndarray, tiles: Collection[int] | None = None) -> list[Detection]:
        """Faces in ``rgb``: the whole image, then (tiled detectors) each tile, or only the tiles
        numbered in ``tiles`` (row by row from 0; streams choose them per frame)."""
        if self.spec.tiles < 2:
            return self._detect(rgb)
        H, W = rgb.shape[:2]
        found = self._detect(rgb)
        for k, (x0, y0, x1, y1) in enumerate(tile_grid(W, H, self.spec.tiles, self.spec.tile_overlap)):
            if (tiles is not None and k not in tiles) or min(x1 - x0, y1 - y0) < MIN_TILE_PX:
                continue
            for d in self._detect(rgb[y0:y1, x0:x1]):
                bx, by, bw, bh = d.box
                # a box cut by the tile's inner edge is a partial face: the other tile has it whole
                cut = (bx < 1 and x0 > 0) or (by < 1 and y0 > 0) or (bx + bw > x1 - x0 - 1 and x1 < W) \
                    or (by + bh > y1 - y0 - 1 and y1 < H)
                if not cut:
                    found.append(replace(d.moved((bx + x0, by + y0, bw, bh), lambda p: (p[0] + x0, p[1] + y0)),
                                         tile=k))
        return nms(found)

    def _detect(self, rgb: np.ndarray) -> list[Detection]:
        h, w = rgb.shape[:2]
        with self._lock:
            try:
                result = self._mp.process(np.ascontiguousarray(rgb))
            except RuntimeError as exc:
                # a failed MediaPipe graph stays in its error state: replace it, or every later call fails
                log.warning("face detector %s failed on a %dx%d image; rebuilding it", self.spec.name, w, h)
                self._rebuild()
                raise DetectorError(f"face detection failed on a {w}x{h} image") from exc
        out: list[Detection] = []
        for det in result.detections or []:
            # the solution graph does not apply min_detection_confidence reliably: filter here
            if float(det.score[0]) < self.spec.min_score:
                continue
            rel = det.location_data.relative_bounding_box
            x0, y0 = rel.xmin * w, rel.ymin * h
            x1, y1 = x0 + rel.width * w, y0 + rel.height * h
            x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
            if x1 - x0 < 1 or y1 - y0 < 1:
                continue
            keypoints = tuple((kp.x * w, kp.y * h) for kp in rel_keypoints(det))
            out.append(Detection((x0, y0, x1 - x0, y1 - y0), float(det.score[0]), keypoints=keypoints))
        out.sort(key=lambda d: -d.score)
        return out

    def _rebuild(self) -> None:
        """Replace the graph (the caller holds the lock)."""
        try:
            self._mp.close()
        except Exception as exc:  # noqa: BLE001 - a broken graph may fail to close; it is dropped anyway
            log.debug("closing the failed graph: %s", exc)
        self._mp = self._build()

    def close(self) -> None:
        with self._lock:
            self._mp.close()


def rel_keypoints(det) -> list:
    """A MediaPipe detection's relative keypoints (empty if it has none)."""
    return list(getattr(det.location_data, "relative_keypoints", None) or [])


def nms(dets: list[Detection], iou_threshold: float = 0.3) -> list[Detection]:
    """Keep the best-scoring box of each overlapping group (also drops a box mostly inside another)."""
    keep: list[Detection] = []
    for d in sorted(dets, key=lambda d: -d.score):
        if all(iou(d.box, k.box) < iou_threshold and fraction_inside(d.box, k.box) < 0.7 for k in keep):
            keep.append(d)
    return keep


_cache: dict[DetectorSpec, MediaPipeDetector] = {}
_cache_lock = threading.Lock()


def get_detector(spec: DetectorSpec | str | None = None) -> MediaPipeDetector:
    """One shared detector per spec (name + threshold), created on first use."""
    if not isinstance(spec, DetectorSpec):
        spec = detector_spec(spec)
    with _cache_lock:
        det = _cache.get(spec)
        if det is None:
            if spec.backend != "mediapipe":
                raise ValueError(f"unknown detector backend {spec.backend!r}")
            det = _cache[spec] = MediaPipeDetector(spec)
        return det
