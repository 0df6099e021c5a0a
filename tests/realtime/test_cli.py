"""python -m realtime predict / calibration numbers in config."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from realtime.research.scenes import real_photo


def test_predict_writes_annotated_images_and_json(tmp_path, standin_model):
    Image.fromarray(real_photo("astronaut")).save(tmp_path / "astro.jpg", quality=92)
    Image.fromarray(real_photo("coffee")).save(tmp_path / "coffee.webp")
    png = (tmp_path / "astro.png")
    Image.fromarray(real_photo("astronaut")).save(png)
    (tmp_path / "broken.png").write_bytes(png.read_bytes()[:20000])  # truncated
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "realtime", "predict", str(tmp_path / "astro.jpg"), str(tmp_path / "coffee.webp"),
         str(tmp_path / "broken.png"), "--out", str(out), "--json", "--model", str(standin_model),
         "--detector", "full@0.6", "--format", "jpg"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1  # one input failed
    assert "broken.png: error:" in proc.stderr and "corrupt" in proc.stderr
    assert "astro.jpg: 1 face(s)" in proc.stdout and "coffee.webp: 0 face(s): no face found" in proc.stdout
    doc = json.loads((out / "astro.json").read_text())
    assert doc["detector"] == "full@0.6" and len(doc["faces"]) == 1
    assert doc["image"] == {"width": 512, "height": 512}
    empty = json.loads((out / "coffee.json").read_text())
    assert empty["faces"] == [] and empty["message"] == "no face found"
    assert Image.open(out / "astro.annotated.jpg").format == "JPEG"
    assert not (out / "broken.json").exists()


def test_predict_unknown_detector(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "realtime", "predict", "x.png", "--out", str(tmp_path),
                           "--detector", "nope"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "unknown detector 'nope'" in proc.stderr


def test_configured_crop_matches_a_fresh_measurement(fer_faces):
    """The margin in realtime/config.py is what the calibration measures (on a smaller sample)."""
    from realtime.research.calibrate import calibrate
    from realtime.config import DEFAULT_DETECTOR, detector_spec

    faces, _ = fer_faces
    res = calibrate(DEFAULT_DETECTOR, faces[:70])
    crop = detector_spec(DEFAULT_DETECTOR).crop
    assert res.n_detected >= 40
    assert res.calibration.scale == pytest.approx(crop.scale, abs=0.06)
    assert res.calibration.dy == pytest.approx(crop.dy, abs=0.03)
    assert abs(res.calibration.dx) < 0.04
    assert res.iou_calibrated > res.iou_uncalibrated
