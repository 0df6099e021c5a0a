"""analyze(image) -> Analysis: every face in an image, found, cropped like FER2013, classified."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection

import cv2
import numpy as np

from .classifier import EmotionClassifier, load_classifier
from .closeup import closeup_spec, detect_closeup
from .config import CropCalibration, DetectorSpec, PipelineConfig, detector_spec
from .contract import DEFAULT_UNCERTAINTY, UncertaintyRule
from .crop import eye_roll, extract_upright, square_to_box, upright_square
from .detect import Detection, DetectorError, get_detector
from .draw import draw_analysis, encode
from .io import DecodedImage, ImageError, ImageSource, ImageTooSmallError, load_image
from .uncertainty import is_uncertain, label_for, leading_two, rule_of

log = logging.getLogger(__name__)

NO_FACE_MESSAGE = "no face found"


@dataclass
class Face:
    box: tuple[int, int, int, int]  # x, y, w, h of the detector box, pixels of the (orientation-corrected) image
    detection_score: float
    emotion: str
    confidence: float
    probabilities: dict[str, float]  # all classes, in the model's order (smoothed in streams)
    crop_box: tuple[int, int, int, int]  # the FER2013-framed square that was classified
    track_id: int | None = None  # set by Stream
    raw_probabilities: dict[str, float] | None = None  # Stream: this frame's unsmoothed output
    tile: int = -1  # tiled detectors: the tile that found it (-1: the whole image); streams schedule tiles by it
    uncertain: bool = False  # the model's uncertainty rule says the answer is doubtful (realtime/uncertainty.py)
    roll: float = 0.0  # degrees the crop was turned to make the eye line level (0: not turned)

    @property
    def leading(self) -> list[tuple[str, float]]:
        """The two most probable emotions (shown for an uncertain face)."""
        return leading_two(self.probabilities)

    @property
    def label(self) -> str:
        """``"happy 87%"`` or ``"uncertain: fear 35% / neutral 30%"``."""
        return label_for(self.probabilities, uncertain=self.uncertain)

    def to_dict(self) -> dict[str, Any]:
        return {
            "box": [int(v) for v in self.box],
            "detection_score": round(float(self.detection_score), 4),
            "emotion": self.emotion,
            "confidence": round(float(self.confidence), 4),
            "uncertain": bool(self.uncertain),
            "leading": [{"emotion": e, "probability": round(p, 4)} for e, p in self.leading],
            "probabilities": {k: round(float(v), 4) for k, v in self.probabilities.items()},
        }


@dataclass
class Analysis:
    width: int
    height: int
    faces: list[Face]
    classes: list[str]
    model: dict[str, str]  # {"name": .., "version": ..}
    detector: str
    timing_ms: dict[str, float]
    image: np.ndarray | None = field(default=None, repr=False)  # RGB uint8, orientation-corrected
    uncertainty: UncertaintyRule = DEFAULT_UNCERTAINTY  # the model's rule that marked faces uncertain

    @property
    def dominant_emotion(self) -> str | None:
        """The emotion with the highest summed probability over all faces (None without faces)."""
        if not self.faces:
            return None
        totals = {c: sum(f.probabilities[c] for f in self.faces) for c in self.classes}
        return max(totals, key=totals.get)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of docs/realtime.md ("message" only when no face was found)."""
        timing = dict(self.timing_ms)
        timing.setdefault("draw", 0.0)
        timing["total"] = sum(timing[k] for k in ("decode", "detect", "classify", "draw"))
        out: dict[str, Any] = {
            "image": {"width": self.width, "height": self.height},
            "faces": [f.to_dict() for f in self.faces],
            "model": dict(self.model),
            "uncertainty": {"rule": self.uncertainty.rule, "threshold": self.uncertainty.threshold},
            "detector": self.detector,
            "timing_ms": {k: round(float(v), 2) for k, v in timing.items()},
        }
        if not self.faces:
            out["message"] = NO_FACE_MESSAGE
        return out

    def draw(self, image: np.ndarray | None = None, style: "Any | None" = None) -> np.ndarray:
        """The annotated RGB image (boxes, labels, probability bars); records timing_ms['draw']."""
        base = self.image if image is None else image
        if base is None:
            raise ValueError("this Analysis keeps no image; pass image=")
        t0 = time.perf_counter()
        out = draw_analysis(base, self.faces, self.classes, style=style)
        self.timing_ms["draw"] = (time.perf_counter() - t0) * 1000.0
        return out

    def save(self, path: str | Path, image: np.ndarray | None = None, quality: int = 92) -> Path:
        """Draw and write PNG or JPEG (chosen by the suffix)."""
        path = Path(path)
        path.write_bytes(encode(self.draw(image), path.suffix, quality=quality))
        return path


class Analyzer:
    """Detector + classifier + config. Thread-safe; share one per configuration."""

    def __init__(self, config: PipelineConfig | None = None,
                 classifier: EmotionClassifier | None = None, detector: Any = None):
        self.config = config or PipelineConfig()
        self.spec: DetectorSpec = detector_spec(self.config.detector)
        self.detector = detector or get_detector(self.spec)
        self.classifier = classifier or load_classifier(self.config.model_path)
        tta = self.config.tta
        if tta is None:
            tta = bool(self.classifier.metadata.get("tta", {}).get("hflip", False))
        self.tta = tta
        self.uncertainty: UncertaintyRule = rule_of(self.classifier.metadata)

    def detect(self, rgb: np.ndarray, tiles: Collection[int] | None = None) -> list[Detection]:
        """``tiles``: tiled detectors run only these tiles (None: all)."""
        dets = self.detector.detect(rgb) if tiles is None else self.detector.detect(rgb, tiles=tiles)
        return self._select(dets)

    def _select(self, dets: list[Detection]) -> list[Detection]:
        dets = [d for d in dets if min(d.box[2], d.box[3]) >= self.config.min_face_px]
        dets = sorted(dets, key=lambda d: -d.score)[: self.config.max_faces]
        return sorted(dets, key=lambda d: (d.box[0], d.box[1]))  # left to right: stable numbering

    def find_faces(self, rgb: np.ndarray, closeup: bool | None = None,
                   tiles: Collection[int] | None = None) -> tuple[list[Detection], DetectorSpec]:
        """The faces in ``rgb`` and the detector that found them: the configured detector, then,
        if it finds nothing and ``closeup`` (default: the config's), the close-up pass."""
        h, w = rgb.shape[:2]
        if min(h, w) < self.config.min_face_px:
            raise ImageTooSmallError(f"image is {w}x{h} pixels: too small to hold a face "
                                     f"(at least {self.config.min_face_px} pixels on each side)")
        try:
            dets = self.detect(rgb, tiles)
            if dets or not (self.config.closeup if closeup is None else closeup):
                return dets, self.spec
            return self._select(detect_closeup(rgb, self.spec)), closeup_spec(self.spec)
        except DetectorError as exc:
            raise ImageError(f"face detection failed on this {w}x{h} image; please try another one") from exc

    def crops(self, rgb: np.ndarray, dets: list[Detection], crop: CropCalibration | None = None
              ) -> tuple[np.ndarray, list[tuple[float, float, float]], list[float]]:
        """The faces as the model sees them (N, H, W) uint8, with their squares (cx, cy, side) and
        rolls (degrees; 0 unless ``config.upright`` and the eyes say the head is tilted)."""
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        size = self.classifier.input_size
        rolls = [eye_roll(d.eyes) if self.config.upright else 0.0 for d in dets]
        squares = [upright_square(d.box, crop or self.spec.crop, r) for d, r in zip(dets, rolls)]
        faces = [extract_upright(gray, cx, cy, s, size, r) for (cx, cy, s), r in zip(squares, rolls)]
        return np.stack(faces), squares, rolls

    def classify_detections(self, rgb: np.ndarray, dets: list[Detection],
                            crop: CropCalibration | None = None) -> tuple[list[Face], float]:
        """Crop (``crop``: the calibration of the detector that found them; default the config's),
        turned upright, and classify; each face is marked uncertain by the model's rule."""
        if not dets:
            return [], 0.0
        t0 = time.perf_counter()
        crops, squares, rolls = self.crops(rgb, dets, crop)
        probs = self.classifier.predict(crops, tta=self.tta)
        faces = [self._face(det, sq, roll, p) for det, sq, roll, p in zip(dets, squares, rolls, probs)]
        return faces, (time.perf_counter() - t0) * 1000.0

    def _face(self, det: Detection, square, roll: float, p: np.ndarray) -> Face:
        classes = self.classifier.classes
        k = int(np.argmax(p))
        probabilities = {c: float(v) for c, v in zip(classes, p)}
        return Face(box=tuple(int(round(v)) for v in det.box), detection_score=det.score, emotion=classes[k],
                    confidence=float(p[k]), probabilities=probabilities,
                    crop_box=tuple(int(round(v)) for v in square_to_box(*square)), tile=det.tile,
                    uncertain=is_uncertain(probabilities, self.uncertainty), roll=float(roll))

    def analyze(self, image: ImageSource | DecodedImage, closeup: bool | None = None,
                tiles: Collection[int] | None = None) -> Analysis:
        """Decode, find, crop and classify. ``closeup``: run the close-up pass when nothing is
        found (None: as the config says); ``tiles``: which tiles a tiled detector runs (None: all).
        Streams decide both per frame."""
        t0 = time.perf_counter()
        decoded = image if isinstance(image, DecodedImage) else load_image(image, self.config.max_pixels)
        t1 = time.perf_counter()
        rgb = decoded.rgb
        dets, spec = self.find_faces(rgb, closeup, tiles)
        t2 = time.perf_counter()
        faces, classify_ms = self.classify_detections(rgb, dets, spec.crop)
        timing = {"decode": (t1 - t0) * 1000.0, "detect": (t2 - t1) * 1000.0, "classify": classify_ms}
        log.debug("analyzed %dx%d: %d faces in %.1f ms", decoded.width, decoded.height, len(faces), sum(timing.values()))
        return Analysis(
            width=decoded.width, height=decoded.height, faces=faces, classes=list(self.classifier.classes),
            model={"name": self.classifier.name, "version": self.classifier.version},
            detector=self.spec.name if spec is self.spec else f"{self.spec.name}+closeup", timing_ms=timing, image=rgb,
            uncertainty=self.uncertainty,
        )


_analyzers: dict[PipelineConfig, Analyzer] = {}
_analyzers_lock = threading.Lock()


def get_analyzer(config: PipelineConfig | None = None) -> Analyzer:
    """The shared Analyzer for ``config`` (created once)."""
    config = config or PipelineConfig()
    with _analyzers_lock:
        analyzer = _analyzers.get(config)
        if analyzer is None:
            analyzer = _analyzers[config] = Analyzer(config)
        return analyzer


def analyze(image: ImageSource, config: PipelineConfig | None = None) -> Analysis:
    """Find, crop and classify every face in ``image`` (path, bytes, file, PIL image or RGB array).

    Raises ``realtime.io.ImageError`` (a ValueError) for unusable input.
    """
    return get_analyzer(config).analyze(image)
