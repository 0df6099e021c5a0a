"""Warm start from a shipped (BN-fused) ONNX file, distillation from a teacher, EMA of the weights."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.train.test_fit_export import synthetic_csv
from train.config import ConfigError, build_config
from train.engine import fit


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A trained tiny run exported to ONNX with metadata (BatchNorm folded into the convs by the exporter)."""
    from train.export import export_checkpoint

    tmp_path = tmp_path_factory.mktemp("distill")
    data = synthetic_csv(tmp_path / "synth.csv")
    base = [f"data={data}", "model=vgg_small", "epochs=5", "batch_size=16", "lr=0.05", f"out_dir={tmp_path}/runs",
            "threads=2", "augment={'erase_p': 0.0, 'max_rotation': 5.0}"]
    best = fit(build_config(None, base + ["name=teacher"]), progress=False)
    onnx_file, _ = export_checkpoint(tmp_path / "runs" / "teacher" / "best.pt", out_dir=tmp_path / "model", name="t")
    return base, onnx_file, best


def test_onnx_warm_start_reproduces_the_onnx_function(exported):
    import onnxruntime as ort

    from train.models import create_model
    from train.onnx_init import load_fused_onnx

    _, onnx_file, _ = exported
    torch.manual_seed(1)
    x = torch.rand(64, 1, 48, 48) * 2 - 1
    model = load_fused_onnx(create_model("vgg_small"), onnx_file, x).eval()
    with torch.no_grad():
        ours = model(x[:8]).softmax(1).numpy()
    ref = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"]).run(None, {"input": x[:8].numpy()})[0]
    assert np.abs(ours - ref).max() < 1e-4
    # BN running statistics were measured, not left at identity: batch statistics (BN in train mode,
    # dropout off) give nearly the same function on the calibration faces
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.train()
    with torch.no_grad():
        train_mode = model(x).softmax(1).numpy()[:8]
    assert np.abs(train_mode - ref).max() < 0.1


def test_onnx_warm_start_refuses_another_architecture(exported):
    from train.models import create_model
    from train.onnx_init import OnnxInitError, load_fused_onnx

    _, onnx_file, _ = exported
    with pytest.raises(OnnxInitError, match=r"t.onnx: conv weight \(32, 1, 3, 3\) does not fit \(64, 1, 3, 3\)"):
        load_fused_onnx(create_model("vgg"), onnx_file, torch.zeros(2, 1, 48, 48))


def test_distillation_with_ema_from_an_onnx_start(exported, tmp_path):
    base, onnx_file, teacher_best = exported
    cfg = build_config(None, base + [f"out_dir={tmp_path}/runs", "name=student", f"init_from={onnx_file}", f"teacher={onnx_file}",
                                     "teacher_tta=flip", "kd_alpha=0.7", "ema_decay=0.9", "epochs=2", "lr=0.01"])
    best = fit(cfg, progress=False)
    run = tmp_path / "runs" / "student"
    probs = np.load(run / "teacher_probs.npy")
    assert probs.shape[1] == 7 and np.allclose(probs.sum(1), 1, atol=1e-4)
    hist = json.loads((run / "metrics.json").read_text())["history"]
    assert {"ema_val_acc", "val_acc"} <= set(hist[0])
    # it starts from the teacher's weights: no relearning from chance
    assert best["val_acc"] >= teacher_best["val_acc"] - 0.1
    assert torch.load(run / "best.pt", weights_only=False)["weights"] in ("raw", "ema")


@pytest.mark.parametrize("override, message", [
    (["teacher=x.onnx", "mixup=0.2"], "cannot be combined with mixup"),
    (["kd_alpha=1.5"], "kd_alpha must be within 0..1"),
    (["ema_decay=1.0"], "ema_decay must be within 0"),
])
def test_distillation_settings_are_checked(override, message):
    with pytest.raises(ConfigError, match=message):
        build_config(None, override)
