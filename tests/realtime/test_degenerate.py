"""Issue 9: a 1-pixel-high (or wide) photo must not break photo analysis for later users.

Before the fix the tiled detector built an empty tile, MediaPipe's shared graph went into an
error state and every later photo failed with 'Graph has errors' until restart."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from realtime import ImageError, ImageTooSmallError, PipelineConfig, analyze
from realtime.boxes import iou
from realtime.detect import DetectorError, get_detector
from realtime.research.scenes import REAL_FACES, real_photo


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 200, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _finds_astronaut(result) -> bool:
    return len(result.faces) == 1 and iou(result.faces[0].box, REAL_FACES["astronaut"][0]) >= 0.5


@pytest.mark.parametrize("width,height", [(300, 1), (1, 300), (640, 3), (5, 5)])
def test_degenerate_photo_rejected_then_next_photo_still_analysed(width, height, standin_model):
    config = PipelineConfig(model_path=str(standin_model))  # the shared analyzer, as the app uses it
    with pytest.raises(ImageTooSmallError, match=f"is {width}x{height} pixels: too small to hold a face"):
        analyze(_png(width, height), config)  # refused from the header, before decoding and detection
    assert _finds_astronaut(analyze(real_photo("astronaut"), config))


def test_decoded_degenerate_image_refused_before_detection(standin_model):
    """An already-decoded image (what the web app hands over) is checked again before detection."""
    from realtime.io import DecodedImage
    from realtime.pipeline import Analyzer

    analyzer = Analyzer(PipelineConfig(model_path=str(standin_model), min_face_px=12))
    with pytest.raises(ImageTooSmallError, match="image is 640x10 pixels: too small to hold a face "
                                                 r"\(at least 12 pixels on each side\)"):
        analyzer.analyze(DecodedImage(np.zeros((10, 640, 3), np.uint8), "array"))
    assert _finds_astronaut(analyzer.analyze(real_photo("astronaut")))


@pytest.mark.parametrize("name", ["short-tiled3", "full-tiled", "full"])
def test_detectors_survive_1xN_and_Nx1_images(name):
    detector = get_detector(name)
    for shape in [(1, 300, 3), (300, 1, 3), (2, 640, 3)]:
        assert detector.detect(np.zeros(shape, np.uint8)) == []
    assert any(iou(d.box, REAL_FACES["astronaut"][0]) >= 0.5 for d in detector.detect(real_photo("astronaut")))


def test_failed_detector_rebuilds_itself():
    """An image MediaPipe refuses (no rows) fails that call only; the next call works."""
    detector = get_detector("short-tiled3")
    with pytest.raises(DetectorError, match="face detection failed on a 300x0 image"):
        detector.detect(np.zeros((0, 300, 3), np.uint8))
    assert len(detector.detect(real_photo("astronaut"))) == 1


def test_detector_failure_is_a_clear_image_error(standin_model, monkeypatch):
    from realtime.pipeline import Analyzer

    analyzer = Analyzer(PipelineConfig(model_path=str(standin_model)))

    def broken(rgb):
        raise DetectorError("face detection failed on a 512x512 image")

    monkeypatch.setattr(analyzer.detector, "detect", broken)
    with pytest.raises(ImageError, match="face detection failed on this 512x512 image"):
        analyzer.analyze(real_photo("astronaut"))
