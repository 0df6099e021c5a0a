"""Configuration of the real-time core: detectors, crop calibration, pipeline and stream settings.

The crop margin lives here, not in the model metadata: it describes how a given
detector's boxes relate to FER2013's framing, so it is a property of the detector.
The numbers come from ``python -m realtime calibrate`` (see docs/realtime.md).
Config objects are plain frozen dataclasses, built at the edge (CLI flags, app
settings) and passed in.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .io import DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class CropCalibration:
    """Maps a detector box (x, y, w, h) to the square FER2013-style crop.

    side = scale * sqrt(w * h); centre = box centre + (dx * w, dy * h).
    """

    scale: float = 1.0
    dx: float = 0.0
    dy: float = 0.0


@dataclass(frozen=True)
class DetectorSpec:
    name: str
    backend: str  # "mediapipe" (more could be added)
    model_selection: int = 0  # mediapipe: 0 short-range, 1 full-range
    min_score: float = 0.7
    tiles: int = 0  # >1: also run on a tiles x tiles grid of overlapping tiles (finds small faces)
    tile_overlap: float = 0.25  # fraction of a tile shared with its neighbour
    crop: CropCalibration = field(default_factory=CropCalibration)

    def with_score(self, min_score: float) -> "DetectorSpec":
        return replace(self, min_score=float(min_score), name=f"{self.name.split('@')[0]}@{min_score:g}")


# Crop calibrations measured by `python -m realtime calibrate` on 300 FER2013 PublicTest
# faces (balanced over the 7 classes) upscaled x4 and padded (numbers and method in docs/realtime.md).
# dx is set to 0: the measured median is within 0.002 of it (faces are left-right symmetric).
SHORT_CROP = CropCalibration(scale=1.21, dx=0.0, dy=-0.089)
FULL_CROP = CropCalibration(scale=1.15, dx=0.0, dy=-0.054)
# the 3x3 tiles find more (harder) FER faces, which shifts the medians a little
SHORT_TILED3_CROP = CropCalibration(scale=1.17, dx=0.0, dy=-0.093)

DETECTORS: dict[str, DetectorSpec] = {
    # MediaPipe full-range (192x192 input, faces up to ~5 m)
    "full": DetectorSpec(
        "full", "mediapipe", model_selection=1, min_score=0.7, crop=FULL_CROP,
    ),
    # MediaPipe short-range (128x128 input, faces within ~2 m)
    "short": DetectorSpec(
        "short", "mediapipe", model_selection=0, min_score=0.7, crop=SHORT_CROP,
    ),
    # MediaPipe full-range on the whole image + 2x2 overlapping tiles
    "full-tiled": DetectorSpec(
        "full-tiled", "mediapipe", model_selection=1, min_score=0.7, tiles=2, crop=FULL_CROP,
    ),
    # MediaPipe full-range on the whole image + 3x3 overlapping tiles
    "full-tiled3": DetectorSpec(
        "full-tiled3", "mediapipe", model_selection=1, min_score=0.7, tiles=3, crop=FULL_CROP,
    ),
    # MediaPipe short-range on the whole image + 2x2 overlapping tiles
    "short-tiled": DetectorSpec(
        "short-tiled", "mediapipe", model_selection=0, min_score=0.7, tiles=2, crop=SHORT_CROP,
    ),
    # MediaPipe short-range on the whole image + 3x3 overlapping tiles
    "short-tiled3": DetectorSpec(
        "short-tiled3", "mediapipe", model_selection=0, min_score=0.7, tiles=3, tile_overlap=0.4,
        crop=SHORT_TILED3_CROP,
    ),
}

#: Chosen by measurement (docs/realtime.md, "Detector choice").
DEFAULT_DETECTOR = "short-tiled3"


def detector_spec(name: str | None = None) -> DetectorSpec:
    """``"full"``, ``"short"``, optionally with a score threshold: ``"full@0.6"``."""
    name = (name or DEFAULT_DETECTOR).strip()
    base, _, thr = name.partition("@")
    if base not in DETECTORS:
        raise ValueError(f"unknown detector '{base}'; choose one of: {', '.join(DETECTORS)} (optionally NAME@SCORE)")
    spec = DETECTORS[base]
    if thr:
        try:
            score = float(thr)
        except ValueError:
            raise ValueError(f"detector threshold must be a number in (0, 1), got '{thr}'") from None
        if not 0.0 < score < 1.0:
            raise ValueError(f"detector threshold must be in (0, 1), got {score}")
        spec = spec.with_score(score)
    return spec


@dataclass(frozen=True)
class PipelineConfig:
    detector: str = DEFAULT_DETECTOR  # name understood by detector_spec()
    model_path: str | None = None  # None: onnx/emotion.onnx
    tta: bool | None = None  # None: the model metadata decides (tta.hflip)
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_faces: int = 100
    min_face_px: int = 8  # smaller boxes are dropped (nothing to classify); also the smallest image side accepted
    closeup: bool = True  # when nothing is found, look again padded/upscaled (realtime/closeup.py)
    upright: bool = True  # turn each crop so the eye line is level (realtime/crop.py); False: axis-aligned crops


@dataclass(frozen=True)
class StreamConfig:
    iou_threshold: float = 0.3  # box overlap that continues a track
    alpha: float = 0.35  # EMA weight of the newest frame's probabilities
    box_alpha: float = 0.6  # EMA weight of the newest box (0 < a <= 1; 1 = no box smoothing)
    max_missed: int = 5  # frames a track survives without a matching face
    # the close-up pass on a frame where the detector finds nothing: every frame while a track is
    # alive, else every n-th faceless frame (0: never). Measured in docs/realtime.md ("Close-ups").
    closeup_every: int = 3
    # tiled detectors: each tile runs at least every n-th frame (in turn), and every frame while a
    # face it found is tracked; the whole image every frame. 1: every tile every frame.
    # Measured in docs/video.md ("Tiles in turn").
    tile_every: int = 1
