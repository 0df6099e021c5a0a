"""The close-up pass: faces that fill the frame or sit in small images are found; boxes in the
original image's pixels; photos where the detector finds faces do not pay for it; streams."""
from __future__ import annotations

import numpy as np
import pytest

from realtime import Analyzer, PipelineConfig, Stream, StreamConfig
from realtime.closeup import CloseupPass, to_original, transform
from realtime.research.closeup_eval import webcam_closeups
from realtime.research.closeup_set import SIZES, closeup_set, crop_closeup, size_of
from realtime.boxes import iou
from realtime.detect import Detection
from realtime.research.scenes import REAL_FACES, real_photo


@pytest.fixture(scope="module")
def analyzer(standin_model):
    return Analyzer(PipelineConfig(model_path=str(standin_model)))


def _found(analyzer, scene, closeup) -> bool:
    dets, _ = analyzer.find_faces(scene.rgb, closeup=closeup)
    return any(iou(d.box, scene.faces[0]) >= 0.5 for d in dets)


def test_closeups_found_in_at_least_97_percent(fer_faces, analyzer):
    """Tight crops (1.0-1.3x the face box) of real and FER faces at 48-256 px. The whole set
    (696 close-ups, docs/realtime.md): 61.5 % found by the detector alone, 98.3 % with the pass."""
    scenes = closeup_set(fer_faces[0][:35])
    scenes = [s for i, s in enumerate(scenes) if s.kind == "fer" or i % 3 == 0]  # real faces: one shift of 3
    before = sum(_found(analyzer, s, closeup=False) for s in scenes)
    after = sum(_found(analyzer, s, closeup=True) for s in scenes)
    assert len(scenes) == 72 + 35 * len(SIZES)
    assert before / len(scenes) < 0.75  # the detector alone misses many
    assert after / len(scenes) >= 0.97, f"{after}/{len(scenes)} found"
    small = [s for s in scenes if size_of(s) == 48]
    assert sum(_found(analyzer, s, closeup=True) for s in small) / len(small) >= 0.9


def test_closeup_through_analyze_maps_boxes_back_clipped(analyzer):
    rgb, face = crop_closeup(real_photo("camera"), REAL_FACES["camera"][0], 1.0, 48, (0.05, -0.05))
    assert analyzer.analyze(rgb, closeup=False).faces == []  # the detector alone misses it
    result = analyzer.analyze(rgb)  # photos: the pass is on by default
    assert result.detector == "short-tiled3+closeup"
    assert len(result.faces) == 1
    x, y, w, h = result.faces[0].box
    assert x >= 0 and y >= 0 and x + w <= 48 and y + h <= 48
    assert iou(result.faces[0].box, face) >= 0.5
    assert result.to_dict()["faces"][0]["box"] == [x, y, w, h]


def test_transform_and_back_known_answer():
    rgb = np.zeros((50, 100, 3), np.uint8)
    img, k, border = transform(rgb, CloseupPass(pad=0.25, min_side=320))
    # the shorter side would need x6.4, the longer side allows x3.2 (MAX_SIDE 320): 320x160 + 80 px border
    assert (k, border, img.shape) == (3.2, 80, (320, 480, 3))
    assert tuple(img[0, 0]) == (128, 128, 128)
    inside = to_original(Detection((80 + 32, 80 + 16, 64, 64), 0.9), k, border, 100, 50)
    assert inside.box == pytest.approx((10, 5, 20, 20)) and inside.score == 0.9
    clipped = to_original(Detection((40, 60, 200, 200), 0.9), k, border, 100, 50)
    assert clipped.box == pytest.approx((0, 0, (240 - 80) / 3.2, 50))
    assert to_original(Detection((0, 0, 60, 60), 0.9), k, border, 100, 50) is None  # all in the border


def test_large_photo_is_shrunk_and_boxes_scale_back(analyzer):
    """A 1536x1536 close-up (x6 a 256 px crop) is shrunk x5 for the pass; the box comes back x6."""
    import cv2

    from realtime.closeup import detect_closeup

    rgb, face = crop_closeup(real_photo("astronaut"), REAL_FACES["astronaut"][0], 1.1, 256)
    big = cv2.resize(rgb, (1536, 1536), interpolation=cv2.INTER_CUBIC)
    dets = detect_closeup(big, analyzer.spec)
    assert len(dets) == 1 and iou(dets[0].box, tuple(v * 6 for v in face)) >= 0.5


def test_pass_not_run_when_the_detector_finds_a_face(analyzer, monkeypatch):
    import realtime.pipeline as pipeline

    def fail(*args, **kwargs):
        raise AssertionError("close-up pass ran")

    monkeypatch.setattr(pipeline, "detect_closeup", fail)
    result = analyzer.analyze(real_photo("astronaut"))
    assert len(result.faces) == 1 and result.detector == "short-tiled3"
    with pytest.raises(AssertionError, match="close-up pass ran"):
        analyzer.analyze(real_photo("coffee"))  # no face: the pass runs


def test_pass_switched_off_in_config(standin_model):
    rgb, _ = crop_closeup(real_photo("camera"), REAL_FACES["camera"][0], 1.0, 48, (0.05, -0.05))
    off = Analyzer(PipelineConfig(model_path=str(standin_model), closeup=False))
    assert off.analyze(rgb).faces == []
    assert len(off.analyze(rgb, closeup=True).faces) == 1


def test_stream_finds_a_face_close_to_the_camera(standin_model):
    live = Analyzer(PipelineConfig(detector="full", model_path=str(standin_model)))
    scenes = webcam_closeups()
    counts = {}
    for every in (0, 1):
        stream = Stream(analyzer=live, stream_config=StreamConfig(closeup_every=every))
        found = 0
        for scene in scenes:
            stream.reset()
            found += any(iou(f.box, scene.faces[0]) >= 0.5 for f in stream.process(scene.rgb).faces)
        counts[every] = found
    assert counts[0] <= len(scenes) - 3 and counts[1] >= len(scenes) - 1, counts
    missed = next(s for s in scenes if not live.find_faces(s.rgb, closeup=False)[0])
    stream = Stream(analyzer=live)  # default closeup_every=3: a tracked close-up face is found in every frame
    assert all(len(stream.process(missed.rgb).faces) == 1 for _ in range(5))


def test_stream_closeup_every_nth_faceless_frame(standin_model, monkeypatch):
    import realtime.pipeline as pipeline

    calls = []
    monkeypatch.setattr(pipeline, "detect_closeup", lambda rgb, spec: calls.append(1) or [])
    stream = Stream(analyzer=Analyzer(PipelineConfig(detector="full", model_path=str(standin_model))),
                    stream_config=StreamConfig(closeup_every=3))
    blank = np.full((240, 320, 3), 90, np.uint8)
    for _ in range(7):
        stream.process(blank)
    assert len(calls) == 3  # faceless frames 0, 3 and 6
    with pytest.raises(ValueError, match="closeup_every"):
        Stream(analyzer=stream.analyzer, stream_config=StreamConfig(closeup_every=-1))


def test_closeup_passes_leave_no_face_images_empty(analyzer):
    """The 17 no-face photos and 8 close-up-sized crops of each: no pass puts a box on any."""
    from realtime.closeup import detect_closeup
    from realtime.research.closeup_set import noface_images

    images = noface_images()
    assert len(images) == 153
    boxed = [i for i, img in enumerate(images) if detect_closeup(img, analyzer.spec)]
    assert boxed == []
