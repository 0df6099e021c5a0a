"""The command line: --help everywhere, audit, export + evaluate through onnxruntime, clear errors."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.train.fertools import make_faces, write_csv
from train.cli import main
from train.config import build_config
from train.models import create_model

COMMANDS = ["audit", "preview", "fit", "bench", "evaluate", "export", "variants", "ensembles", "report"]


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main([cmd, "--help"])
    assert exc.value.code == 0
    assert "usage: python -m train " + cmd in capsys.readouterr().out


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "train", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and all(c in out.stdout for c in COMMANDS)


def test_audit_cli_prints_counts_and_writes_json(tmp_path, capsys):
    images, labels = make_faces(14)
    images[3] = 0  # a blank face
    images[5] = images[12]  # a duplicate across splits (Training line 7, PublicTest line 14)
    usages = ["Training"] * 10 + ["PublicTest"] * 4
    src = write_csv(tmp_path / "f.csv", images, labels, usages)
    rc = main(["--log-file", "", "audit", str(src), "--json", str(tmp_path / "a.json")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "Near-blank images (pixel std < 3.0): 1" in out
    rep = json.loads((tmp_path / "a.json").read_text())
    assert rep["blank_images"][0]["line"] == 5
    assert rep["duplicates_across_splits"][0]["lines"] == [7, 14]
    assert rep["class_counts"]["PublicTest"]["Surprise"] == 1  # labels 10..13 -> 3,4,5,6


def test_cli_errors_are_clear_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("emotion,pixels,Usage\n9," + " ".join(["0"] * 2304) + ",Training\n")
    assert main(["--log-file", "", "audit", str(bad)]) == 2
    assert "bad.csv, line 2: field 'emotion': label '9'" in capsys.readouterr().err
    assert main(["--log-file", "", "fit", "--set", "modle=vgg"]) == 2
    assert "unknown config key 'modle'" in capsys.readouterr().err


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """An (untrained, seeded) vgg_small exported the way `train export` does it."""
    from train.export import export_checkpoint

    tmp = tmp_path_factory.mktemp("model")
    torch.manual_seed(0)
    model = create_model("vgg_small")
    cfg = build_config(None, ["model=vgg_small"])
    torch.save({"model": model.state_dict(), "config": cfg.to_dict(), "epoch": 1, "data_sha256": "x"}, tmp / "best.pt")
    onnx_file, meta_file = export_checkpoint(tmp / "best.pt", tmp, name="m")
    return onnx_file, json.loads(meta_file.read_text())


def test_export_writes_metadata_that_drives_the_runtime(exported):
    onnx_file, meta = exported
    assert meta["classes"] == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert meta["input"] == {"name": "input", "height": 48, "width": 48, "channels": 1, "color": "gray", "layout": "NCHW",
                             "dtype": "float32", "scale": 1 / 255.0, "mean": [0.5], "std": [0.5]}
    assert meta["architecture"]["name"] == "vgg_small" and meta["size_bytes"] == onnx_file.stat().st_size
    assert meta["training"]["model"] == "vgg_small" and meta["data"]["sha256"] == "x"


def test_evaluate_matches_the_app_classifier_on_every_layout(tmp_path, exported, capsys):
    from PIL import Image

    from realtime.classifier import load_classifier
    from train.data import CLASSES

    onnx_file, _ = exported
    images, labels = make_faces(21, seed=3)
    usages = ["Training"] * 7 + ["PublicTest"] * 14
    csv = write_csv(tmp_path / "f.csv", images, labels, usages)
    rc = main(["--log-file", "", "evaluate", "--data", str(csv), "--model", str(onnx_file), "--usage", "PublicTest",
               "--json", str(tmp_path / "e.json")])
    assert rc == 0
    res = json.loads((tmp_path / "e.json").read_text())
    pred = load_classifier(onnx_file).predict(images[7:]).argmax(1)
    assert res["n"] == 14
    assert res["accuracy"] == pytest.approx(float((pred == labels[7:]).mean()))
    assert np.array(res["confusion_matrix"]).sum() == 14
    assert set(res["per_class"]) == set(CLASSES) and "macro_f1" in res
    assert (tmp_path / "e.png").is_file()
    # the same faces as an image folder give the same numbers
    root = tmp_path / "folder" / "val"
    for i in range(7, 21):
        d = root / CLASSES[labels[i]]
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[i]).save(d / f"{i}.png")
    rc = main(["--log-file", "", "evaluate", "--data", str(tmp_path / "folder"), "--model", str(onnx_file),
               "--json", str(tmp_path / "f.json")])
    assert rc == 0
    assert json.loads((tmp_path / "f.json").read_text())["accuracy"] == pytest.approx(res["accuracy"])


def test_ensembles_score_every_subset_like_the_classifier(tmp_path, exported, capsys):
    """Two models (the exported one and a differently seeded copy): 3 subsets x 3 view sets,
    each row the accuracy of the mean probabilities, as the app's classifier computes them."""
    from realtime.classifier import load_classifier
    from train.export import export_checkpoint

    torch.manual_seed(1)
    cfg = build_config(None, ["model=vgg_small"])
    torch.save({"model": create_model("vgg_small").state_dict(), "config": cfg.to_dict(), "epoch": 1,
                "data_sha256": "x"}, tmp_path / "best.pt")
    other, _ = export_checkpoint(tmp_path / "best.pt", tmp_path, name="other")
    images, labels = make_faces(21, seed=5)
    csv = write_csv(tmp_path / "f.csv", images, labels, ["Training"] * 7 + ["PublicTest"] * 14)
    rc = main(["--log-file", "", "ensembles", str(exported[0]), str(other), "--data", str(csv),
               "--json", str(tmp_path / "e.json")])
    assert rc == 0
    rows = json.loads((tmp_path / "e.json").read_text())
    assert len(rows) == 9 and rows == sorted(rows, key=lambda r: (-r["accuracy"], -r["macro_f1"]))
    pair = next(r for r in rows if r["views"] == "flip" and len(r["models"]) == 2)
    probs = np.mean([load_classifier(m).predict(images[7:], tta="flip") for m in (exported[0], other)], axis=0)
    assert pair["accuracy"] == pytest.approx(round(float((probs.argmax(1) == labels[7:]).mean()), 4))
    assert pair["models"] == ["m.onnx", "other.onnx"] and "m.onnx + other.onnx" in capsys.readouterr().out


def test_evaluate_refuses_unlabelled_data(tmp_path, exported, capsys):
    images, _ = make_faces(3)
    csv = write_csv(tmp_path / "test.csv", images)
    assert main(["--log-file", "", "evaluate", "--data", str(csv), "--model", str(exported[0])]) == 2
    assert "has no labels" in capsys.readouterr().err


def test_report_is_rebuilt_from_saved_results(tmp_path):
    from train.report import RESULTS, write_report

    if not (RESULTS / "audit_summary.json").is_file():
        pytest.skip("no saved results in docs/results")
    out = write_report(tmp_path / "REPORT.md", refresh=False)
    text = out.read_text()
    for heading in ("## 1. Research", "## 2. The data", "## 3. Backbones", "## 4. Test metrics", "## 5. Comparison",
                    "## 6. Proposals"):
        assert heading in text
    assert "Khaireddin" in text and "73.28" in text
    audit = json.loads((RESULTS / "audit_summary.json").read_text())
    assert f"blank images: {audit['blank']}" in text
