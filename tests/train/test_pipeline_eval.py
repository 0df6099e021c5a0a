"""`evaluate --pipeline`: FER faces placed in larger images, through the app's detection + crop +
classifier, beside the classifier alone on the same faces."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.train.fertools import write_csv
from train.cli import main

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "onnx" / "emotion.onnx"


@pytest.fixture(scope="module")
def fer_csv(tmp_path_factory):
    from realtime.research.ferdata import fer_csv_path, load_fer_faces

    if not fer_csv_path().is_file():
        pytest.skip(f"FER2013 CSV not available at {fer_csv_path()}")
    images, labels = load_fer_faces("PublicTest", limit=21)
    path = write_csv(tmp_path_factory.mktemp("fer") / "pub.csv", images, labels, ["PublicTest"] * len(images))
    return path, images, labels


def test_placed_face_is_the_upscaled_face_at_its_frame():
    from train.pipeline_eval import CANVAS, FACE_PX, placed_face

    face = np.random.default_rng(3).integers(0, 256, (48, 48), dtype=np.uint8)
    rgb, (x, y, s, _) = placed_face(face, 7, seed=0, backgrounds={})
    assert rgb.shape == CANVAS + (3,) and FACE_PX[0] <= s <= FACE_PX[1]
    expected = cv2.resize(face, (s, s), interpolation=cv2.INTER_CUBIC)
    assert np.array_equal(rgb[y:y + s, x:x + s, 0], expected)
    again, frame = placed_face(face, 7, seed=0, backgrounds={})
    assert np.array_equal(again, rgb) and frame == (x, y, s, s)  # fixed by (seed, index)


def _evaluate(path, out, capsys, *options) -> tuple[str, dict]:
    """``evaluate --pipeline`` on PublicTest rows of ``path`` with ``options``: (printed, the JSON)."""
    rc = main(["--log-file", "", "evaluate", "--pipeline", "--data", str(path), "--usage", "PublicTest",
               *options, "--json", str(out)])
    assert rc == 0
    return capsys.readouterr().out, json.loads(out.read_text())


@pytest.mark.skipif(not MODEL.is_file(), reason="no shipped model")
def test_pipeline_cli_reports_both_numbers(fer_csv, tmp_path, capsys):
    from realtime.classifier import load_classifier

    path, images, labels = fer_csv
    printed, res = _evaluate(path, tmp_path / "pipe.json", capsys, "--limit", "14", "--seed", "1")
    assert "whole pipeline" in printed and "classifier only" in printed
    assert res["n"] == 14 and res["subset"] == "14 of 21 (random, seed 1)"
    keep = np.sort(np.random.default_rng(1).choice(21, 14, replace=False))
    clf = load_classifier(str(MODEL))
    hflip = bool(clf.metadata.get("tta", {}).get("hflip", False))
    raw = clf.predict(images[keep], tta=hflip).argmax(1)
    assert res["classifier_only"]["accuracy"] == pytest.approx(float((raw == labels[keep]).mean()))
    assert res["classifier_only"]["no_face"] == 0
    pipe, without = res["pipeline"], res["pipeline_without_closeup"]
    assert pipe["no_face"] <= without["no_face"]  # the close-up pass only adds faces
    cm = np.array(pipe["confusion_matrix"])
    assert cm.shape == (8, 8) and cm.sum() == 14 and cm[:, 7].sum() == pipe["no_face"]
    assert pipe["accuracy"] == pytest.approx(np.trace(cm[:7, :7]) / 14)
    assert pipe["box_on_the_face"] >= 14 - pipe["no_face"] - 1  # the answer is the placed face, not a stray box


def test_pipeline_refuses_tta(fer_csv, capsys):
    path, _, _ = fer_csv
    rc = main(["--log-file", "", "evaluate", "--pipeline", "--tta", "--data", str(path)])
    assert rc == 2
    assert "--tta is not available with --pipeline" in capsys.readouterr().err


def test_rolled_turns_the_scene_about_the_placed_face():
    from train.pipeline_eval import placed_face, rolled

    face = np.random.default_rng(5).integers(0, 256, (48, 48), dtype=np.uint8)
    rgb, (x, y, s, _) = placed_face(face, 3, seed=0, backgrounds={})
    assert rolled(rgb, (x, y, s, s), 0) is rgb
    turned = rolled(rgb, (x, y, s, s), 90)  # a quarter turn counter-clockwise maps the frame onto itself
    assert np.array_equal(turned[y:y + s, x:x + s], np.rot90(rgb[y:y + s, x:x + s]))


@pytest.mark.skipif(not MODEL.is_file(), reason="no shipped model")
def test_pipeline_at_rolls_with_and_without_the_upright_correction(fer_csv, tmp_path, capsys):
    path, _, _ = fer_csv
    printed, res = _evaluate(path, tmp_path / "rolls.json", capsys, "--limit", "6", "--rolls", "0,-30")
    assert "upright acc." in printed and "axis-aligned acc." in printed
    assert list(res["rolls"]) == ["0", "-30"] and res["n"] == 6
    table = (tmp_path / "rolls.md").read_text()
    assert "| -30° |" in table and "accuracy, axis-aligned" in table
    for row in res["rolls"].values():
        assert row["upright"]["no_face"] == row["axis_aligned"]["no_face"]  # one detection serves both
        assert np.array(row["upright"]["confusion_matrix"]).sum() == 6
    rc = main(["--log-file", "", "evaluate", "--pipeline", "--data", str(path), "--rolls", "15,up"])
    assert rc == 2 and "--rolls must be degrees separated by commas" in capsys.readouterr().err


def test_report_shows_pipeline_beside_classifier_and_flags_unclean_results(tmp_path, monkeypatch):
    import train.report as report

    results = tmp_path / "results"
    results.mkdir()
    pipe = {"n": 40, "detector": "short-tiled3", "tta_hflip": True, "ms_per_image": 90.0, "subset": "40 of 3589 (random, seed 0)",
            "placement": {"canvas": [480, 360], "face_px": [120, 200], "backgrounds": ["plain"], "context": 0.25,
                          "seed": 0, "upscale": "INTER_CUBIC"}}
    for key, acc, f1, share in (("pipeline", 0.575, 0.5, 0.15), ("pipeline_without_closeup", 0.55, 0.48, 0.2),
                                ("classifier_only", 0.7, 0.66, 0.0)):
        pipe[key] = {"accuracy": acc, "macro_f1": f1, "no_face_share": share, "accuracy_on_found": acc / (1 - share)}
    pipe["pipeline"]["box_on_the_face"] = 33
    (results / "eval_pipeline_publictest.json").write_text(json.dumps(pipe))
    monkeypatch.setattr(report, "RESULTS", results)
    monkeypatch.setattr(report, "FIGURES", tmp_path / "figures")
    text = report.write_report(tmp_path / "REPORT.md", refresh=False).read_text()
    assert "### Whole pipeline: faces as the app sees them" in text
    assert "| **whole pipeline (what users get)** | 57.50% | 0.5000 | 15.0% | 67.65% | 33/40 |" in text
    assert "| classifier only (the same faces, 48x48) | 70.00% | 0.6600 | 0.0% | 70.00% | — |" in text
    assert "| this project, whole pipeline (FER faces placed in photos, 40 faces) | 57.50% |" in text
    rows = {line.split(" | ")[0]: line for line in text.splitlines() if line.startswith("| ")}
    for name in ("| Khaireddin & Chen", "| WuJie1010", "| LetheSec"):
        row = next(v for k, v in rows.items() if k.startswith(name))
        assert "not clean" in row
    assert "72.73" in rows[next(k for k in rows if k.startswith("| Khaireddin"))]
