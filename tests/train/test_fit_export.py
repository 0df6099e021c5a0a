"""The training loop learns, resumes, and exports an ONNX model that matches PyTorch."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.train.fertools import write_csv
from train.config import build_config
from train.engine import fit


def synthetic_csv(path, n_per_class=30, seed=0):
    """Faces whose class is a bright horizontal band at a class-specific height, plus noise."""
    rng = np.random.default_rng(seed)
    images, labels, usages = [], [], []
    for k in range(7):
        for i in range(n_per_class):
            img = rng.integers(0, 60, (48, 48))
            img[4 + 6 * k:8 + 6 * k, :] += 180
            images.append(np.clip(img, 0, 255).astype(np.uint8))
            labels.append(k)
            usages.append("PublicTest" if i % 5 == 0 else "Training")
    return write_csv(path, np.stack(images), np.array(labels), usages)


@pytest.fixture
def tiny_run(tmp_path):
    data = synthetic_csv(tmp_path / "synth.csv")
    overrides = [f"data={data}", "model=vgg_small", "epochs=6", "batch_size=16", "lr=0.05", f"out_dir={tmp_path}/runs",
                 "name=tiny", "threads=2", "augment={'erase_p': 0.0, 'max_rotation': 5.0}"]
    return overrides, tmp_path / "runs" / "tiny"


def test_smoke_training_learns_and_writes_artifacts(tiny_run, monkeypatch):
    monkeypatch.setenv("EMOTION_CACHE_DIR", "")
    overrides, run_dir = tiny_run
    best = fit(build_config(None, overrides), progress=False)
    hist = json.loads((run_dir / "metrics.json").read_text())["history"]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    assert best["val_acc"] > 0.5  # chance is 1/7
    for f in ("best.pt", "last.pt", "config.yaml", "metrics.csv", "curves.png"):
        assert (run_dir / f).is_file(), f


def test_resume_continues_from_the_saved_epoch(tiny_run):
    overrides, run_dir = tiny_run
    # max_minutes ~0 stops the run after its first epoch, as an interruption would
    fit(build_config(None, overrides + ["epochs=3", "max_minutes=1e-9"]), progress=False)
    assert torch.load(run_dir / "last.pt", weights_only=False)["epoch"] == 1
    cfg = build_config(str(run_dir / "config.yaml"), ["max_minutes=0"])
    fit(cfg, resume=run_dir, progress=False)
    hist = json.loads((run_dir / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in hist] == [1, 2, 3]


def test_missing_data_gives_a_clear_error(tmp_path):
    from train.data import DataError

    cfg = build_config(None, [f"data={tmp_path}/absent.csv", f"out_dir={tmp_path}"])
    with pytest.raises(DataError, match="absent.csv: no such file"):
        fit(cfg, progress=False)


@pytest.mark.parametrize("name", ["vgg_small", "resnet18", "mobilenet_v3_small"])
def test_onnx_export_matches_pytorch(tmp_path, name):
    import onnxruntime as ort

    from train.export import WithSoftmax, export_onnx
    from train.models import create_model

    torch.manual_seed(0)
    model = create_model(name).eval()
    path = export_onnx(model, tmp_path / f"{name}.onnx", max_bytes=None)
    x = torch.rand(5, 1, 48, 48) * 2 - 1
    with torch.no_grad():
        ref = WithSoftmax(model)(x).numpy()
    out = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x.numpy()})[0]
    assert out.shape == (5, 7)
    assert np.abs(out - ref).max() < 1e-4


def test_resume_can_shrink_the_schedule(tiny_run):
    overrides, run_dir = tiny_run
    fit(build_config(None, overrides + ["epochs=4", "max_minutes=1e-9"]), progress=False)
    cfg = build_config(str(run_dir / "config.yaml"), ["max_minutes=0", "epochs=2"])
    fit(cfg, resume=run_dir, progress=False)
    hist = json.loads((run_dir / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in hist] == [1, 2]
    assert hist[-1]["lr"] < 1e-3 < hist[0]["lr"]  # the shrunk one-cycle schedule ran to its end


def test_export_refuses_a_model_file_over_25_mb(tmp_path):
    from train.export import export_onnx
    from train.models import create_model

    with pytest.raises(ValueError, match=r"resnet18.onnx: 44.7 MB exceeds the 25 MB limit"):
        export_onnx(create_model("resnet18"), tmp_path / "resnet18.onnx")
    assert not (tmp_path / "resnet18.onnx").exists()


def test_init_from_starts_from_trained_weights(tiny_run, tmp_path):
    overrides, run_dir = tiny_run
    first = fit(build_config(None, overrides), progress=False)
    warm = fit(build_config(None, overrides + ["name=warm", f"init_from={run_dir}/best.pt", "epochs=1", "lr=0.001"]),
               progress=False)
    assert warm["val_acc"] >= first["val_acc"] - 0.1  # one gentle epoch keeps what was learnt
    with pytest.raises(FileNotFoundError, match="init_from: checkpoint not found"):
        fit(build_config(None, overrides + ["name=bad", f"init_from={tmp_path}/none.pt"]), progress=False)
