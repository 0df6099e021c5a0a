"""Upright faces: the roll read from the eye keypoints, the turned crop's geometry, and real faces
pasted at a known roll coming out with a level eye line (within a few degrees)."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from realtime import Analyzer, PipelineConfig
from realtime.closeup import to_original
from realtime.crop import MIN_ROLL_DEG, crop_to_image, extract, extract_upright, eye_roll, image_to_crop
from realtime.detect import Detection
from realtime.research.scenes import REAL_FACES, real_photo

# the pupils, labelled by hand (x, y): the person's right eye (image left), then their left eye
EYES = {"astronaut": ((203, 101), (247, 103)), "grace_hopper": ((222, 188), (305, 186))}
PAD = 100


def test_roll_from_the_eyes_known_answers():
    assert eye_roll(((0, 0), (10, 0))) == 0.0
    assert eye_roll(((0, 0), (10, 10))) == pytest.approx(45.0)  # left eye lower: turned clockwise on screen
    assert eye_roll(((0, 10), (10, 0))) == pytest.approx(-45.0)
    assert eye_roll(((0, 0), (100, 100 * math.tan(math.radians(MIN_ROLL_DEG / 2))))) == 0.0  # noise: left alone
    assert eye_roll(((0, 0), (10, 30))) == 0.0  # 72 degrees: keypoints not trusted
    assert eye_roll(None) == 0.0 and eye_roll(((5, 5), (5, 5))) == 0.0


def test_turned_crop_geometry():
    gray = np.zeros((200, 200), np.uint8)
    cv2.line(gray, (40, 100), (160, 100), 255, 5)  # a level bar through the centre...
    rot = cv2.warpAffine(gray, cv2.getRotationMatrix2D((100, 100), -30, 1.0), (200, 200))  # ...turned 30 deg clockwise
    crop = extract_upright(rot, 100.5, 100.5, 120, (48, 48), roll=30.0)
    rows = crop.astype(float).sum(axis=1)
    assert abs(int(np.argmax(rows)) - 23.5) <= 1.5 and rows.max() > 8 * np.median(rows)  # level again, centred
    square = (60.5, 70.5, 40.0)
    assert np.array_equal(extract_upright(gray, *square, (48, 48), roll=0.0), extract(gray, *square, (48, 48)))
    forward, back = crop_to_image(*square, 17.0, (48, 48)), image_to_crop(*square, 17.0, (48, 48))
    point = np.array([12.0, 30.0, 1.0])
    assert back @ np.append(forward @ point, 1.0) == pytest.approx(point[:2])


def test_keypoints_follow_the_box_back_from_the_close_up_pass():
    det = Detection((112, 96, 64, 64), 0.9, keypoints=((130, 110), (150, 112)))
    back = to_original(det, 2.0, 80, 100, 50)
    assert back.keypoints == ((25.0, 15.0), (35.0, 16.0)) and back.eyes == back.keypoints


def pasted(name: str, roll: float) -> tuple[np.ndarray, np.ndarray]:
    """The photo turned by ``roll`` degrees (counter-clockwise on screen) about its face, set in a larger
    gray image; returns it and the map from the photo's pixels to it."""
    img = real_photo(name)
    x, y, w, h = REAL_FACES[name][0]
    M = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), roll, 1.0)
    canvas = np.full((img.shape[0] + 2 * PAD, img.shape[1] + 2 * PAD, 3), 120, np.uint8)
    canvas[PAD:-PAD, PAD:-PAD] = cv2.warpAffine(img, M, img.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
    M[:, 2] += PAD
    return canvas, M


def crop_eye_angle(analyzer: Analyzer, name: str, roll: float) -> float:
    """The angle of the labelled eye line in the crop the classifier sees (0: level)."""
    rgb, M = pasted(name, roll)
    dets, spec = analyzer.find_faces(rgb)
    det = max(dets, key=lambda d: d.box[2] * d.box[3])
    _, squares, rolls = analyzer.crops(rgb, [det], spec.crop)
    to_crop = image_to_crop(*squares[0], rolls[0], analyzer.classifier.input_size)
    (ax, ay), (bx, by) = [to_crop @ np.append(M @ np.array([px, py, 1.0]), 1.0) for px, py in EYES[name]]
    return math.degrees(math.atan2(by - ay, bx - ax))


@pytest.mark.parametrize("detector", ["short-tiled3", "full"])  # photos / the live page
def test_a_face_pasted_at_a_known_roll_comes_out_upright(standin_model, detector):
    upright = Analyzer(PipelineConfig(detector=detector, model_path=str(standin_model)))
    plain = Analyzer(PipelineConfig(detector=detector, model_path=str(standin_model), upright=False))
    for name in EYES:
        for roll in (-25, 25):
            assert abs(crop_eye_angle(upright, name, roll)) <= 6.5, (name, roll)
            assert abs(crop_eye_angle(plain, name, roll)) >= 18, (name, roll)  # what the correction undoes


def test_faces_carry_their_roll(standin_model):
    rgb, _ = pasted("grace_hopper", 25)
    for upright, roll in ((True, -25), (False, 0)):
        faces = Analyzer(PipelineConfig(model_path=str(standin_model), upright=upright)).analyze(rgb).faces
        face = max(faces, key=lambda f: f.box[2] * f.box[3])
        assert face.roll == pytest.approx(roll, abs=5)
