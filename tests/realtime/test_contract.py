"""The model contract: metadata round trip, checksum and format checks, one TTA definition."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from realtime import contract
from realtime.classifier import EmotionClassifier, ModelError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ["emotion.onnx", "emotion_e45.onnx", "emotion_restart.onnx"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_models_pass_the_contract(name):
    meta = contract.load(REPO / "onnx" / name)
    assert meta.format_version == contract.FORMAT_VERSION and len(meta.sha256) == 64
    assert meta.classes == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert (meta.input.height, meta.input.width, meta.input.mean, meta.input.std) == (48, 48, [0.5], [0.5])
    assert len(meta.views("full")) == 10


@pytest.fixture
def model_copy(standin_model, tmp_path) -> Path:
    for suffix in (".onnx", ".json"):
        shutil.copy(standin_model.with_suffix(suffix), tmp_path / f"m{suffix}")
    return tmp_path / "m.onnx"


def _edit_json(model: Path, **changes) -> None:
    meta_file = model.with_suffix(".json")
    data = json.loads(meta_file.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    meta_file.write_text(json.dumps(data))


def test_a_changed_model_file_is_refused_naming_the_file(model_copy):
    EmotionClassifier(model_copy)  # loads as written
    with open(model_copy, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match=r"m\.onnx: sha256 .* does not match m\.json"):
        EmotionClassifier(model_copy)


@pytest.mark.parametrize("changes, message", [
    ({"format_version": 2}, r"m\.json: format_version 2 is not supported"),
    ({"sha256": None}, r"m\.json: missing field 'sha256'"),
    ({"format_version": None}, r"m\.json: missing field 'format_version'"),
    ({"classes": []}, r"m\.json: 'classes' is empty"),
    ({"input": {"height": 48}}, r"m\.json: bad field"),
])
def test_bad_metadata_is_refused_naming_the_file(model_copy, changes, message):
    _edit_json(model_copy, **changes)
    with pytest.raises(ModelError, match=message):
        EmotionClassifier(model_copy)


def test_write_fills_the_checksum_and_keeps_unknown_fields(model_copy):
    meta = contract.read(model_copy)
    meta.extra["note"] = "kept"
    meta.palette = {"happy": "#ffd700"}
    contract.write(model_copy, meta)
    again = contract.load(model_copy)
    assert again.sha256 == contract.file_sha256(model_copy) and again.file == "m.onnx"
    assert again.extra == {"note": "kept"} and again.palette == {"happy": "#ffd700"}
    assert json.loads(model_copy.with_suffix(".json").read_text())["note"] == "kept"


def test_tta_views_and_windows_known_answers():
    assert contract.tta_views("off") == [contract.View(0, 0, False)]
    assert contract.tta_views(True) == [contract.View(0, 0, False), contract.View(0, 0, True)]
    full = contract.tta_views("full")
    assert len(full) == 10 and contract.view_pad(full) == 2
    with pytest.raises(ValueError, match="unknown TTA mode 'sideways'"):
        contract.tta_views("sideways")
    # a shift of dx=+2 moves the face 2 px to the right (edge replicated on the left)
    face = np.arange(16, dtype=np.float32).reshape(4, 4)
    padded = np.pad(face, 2, mode="edge")
    rows, cols = contract.view_window(contract.View(2, 0, False), 2, 4, 4)
    moved = padded[rows, cols]
    assert (moved[:, 2:] == face[:, :2]).all() and (moved[:, 0] == face[:, 0]).all()


def test_classifier_full_tta_averages_the_contract_views(model_copy):
    meta = contract.read(model_copy)
    meta.tta = {"hflip": True, "shifts": [list(s) for s in contract.TTA_SHIFTS]}
    contract.write(model_copy, meta)
    clf = EmotionClassifier(model_copy)
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    x = clf.preprocess(faces)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="edge")
    expected = np.zeros((3, 7), np.float32)
    for view in contract.tta_views("full"):
        rows, cols = contract.view_window(view, 2, 48, 48)
        cut = padded[..., rows, cols]
        expected += clf._run(np.ascontiguousarray(cut[..., ::-1] if view.mirrored else cut))
    assert np.allclose(clf.predict(faces, tta="full"), expected / 10, atol=1e-6)
    assert not np.allclose(clf.predict(faces, tta="full"), clf.predict(faces, tta=False), atol=1e-6)
