"""Export a trained checkpoint to ONNX (softmax included) with its metadata JSON beside it."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import torch
from torch import nn

from realtime import contract
from realtime.paths import ONNX_DIR

from .data import CLASSES, SIDE
from .models import count_params, create_model

log = logging.getLogger(__name__)

MAX_BYTES = 25 * 1024 * 1024


class WithSoftmax(nn.Module):
    """The network with its softmax; ``temperature`` (fitted on PublicTest, train/calibration.py) divides the
    logits first, so the shipped probabilities are the calibrated ones."""

    def __init__(self, net: nn.Module, temperature: float = 1.0):
        super().__init__()
        self.net = net
        self.temperature = float(temperature)

    def forward(self, x):
        logits = self.net(x)
        if self.temperature != 1.0:
            logits = logits / self.temperature
        return logits.softmax(dim=1)


def load_checkpoint_model(ckpt_path: Path) -> tuple[nn.Module, dict]:
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    cfg = ck["config"]
    model = create_model(cfg["model"], len(CLASSES), **cfg.get("model_kwargs", {}))
    model.load_state_dict(ck["model"])
    return model.eval(), ck


def export_onnx(model: nn.Module, out: Path, max_bytes: int | None = MAX_BYTES, temperature: float = 1.0) -> Path:
    if temperature <= 0:
        raise ValueError(f"temperature must be above 0, not {temperature}")
    out.parent.mkdir(parents=True, exist_ok=True)
    wrapped = WithSoftmax(model.float(), temperature).eval()  # eval wrapper: the exporter restores this mode afterwards
    dummy = torch.randn(2, 1, SIDE, SIDE)
    torch.onnx.export(wrapped, (dummy,), str(out), input_names=["input"], output_names=["probabilities"],
                      dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}}, opset_version=17,
                      dynamo=False)
    size = out.stat().st_size
    if max_bytes is not None and size > max_bytes:
        out.unlink()
        raise ValueError(f"{out.name}: {size / 1e6:.1f} MB exceeds the 25 MB limit for a model file")
    return out


def metadata(model: nn.Module, ck: dict, name: str, version: str, metrics: dict | None = None) -> contract.ModelMetadata:
    """The contract's metadata for a checkpoint (file, sha256 and size are filled in by :func:`contract.write`)."""
    cfg = ck["config"]
    return contract.ModelMetadata(
        name=name, version=version, classes=list(CLASSES),
        input=contract.InputSpec(height=SIDE, width=SIDE, mean=[contract.MEAN], std=[contract.STD]),
        tta={"hflip": True, "shifts": [list(s) for s in contract.TTA_SHIFTS]},
        architecture={"name": cfg["model"], "kwargs": cfg.get("model_kwargs", {}), "parameters": count_params(model)},
        training=cfg, epoch=ck.get("epoch"),
        data={"file": Path(cfg["data"]).name, "sha256": ck.get("data_sha256"), "dropped_from_training": ck.get("dropped")},
        metrics=metrics or {"PublicTest": _short(ck.get("metrics")), "PublicTest_flip_tta": _short(ck.get("metrics_tta"))},
    )


def _short(m: dict | None) -> dict | None:
    if not m:
        return None
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "n": m["n"]}


def export_checkpoint(ckpt_path: Path, out_dir: Path = ONNX_DIR, name: str = "emotion", model_name: str | None = None,
                      version: str | None = None, temperature: float = 1.0) -> tuple[Path, Path]:
    """``ckpt_path`` -> ``out_dir/name.onnx`` + ``out_dir/name.json``."""
    model, ck = load_checkpoint_model(Path(ckpt_path))
    onnx_file = export_onnx(model, Path(out_dir) / f"{name}.onnx", temperature=temperature)
    version = version or dt.date.today().isoformat() + f"-e{ck.get('epoch')}"
    meta = metadata(model, ck, model_name or f"emotion-{ck['config']['name']}", version)
    if temperature != 1.0:
        meta.extra["temperature"] = {"value": temperature, "note": "logits divided by this before the softmax "
                                     "(fitted on PublicTest to the FER+ vote shares)"}
    meta_file = contract.write(onnx_file, meta)
    log.info("exported %s (%.2f MB) and %s", onnx_file, onnx_file.stat().st_size / 1e6, meta_file)
    return onnx_file, meta_file
