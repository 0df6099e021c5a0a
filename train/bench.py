"""Backbone benchmark: the same short budget for each model, plus throughput, size and inference speed."""
from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from .config import build_config
from .engine import fit
from .export import export_onnx, load_checkpoint_model
from .models import count_params, create_model

log = logging.getLogger(__name__)


def train_throughput(name: str, bf16: bool, batch: int = 128, steps: int = 4) -> float:
    model = create_model(name).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 1, 48, 48).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 7, (batch,))

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        opt.zero_grad(); loss.backward(); opt.step()

    step(); step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - t)


def onnx_speed(model, reps: int = 200) -> dict:
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(model, Path(tmp) / "m.onnx", max_bytes=None)
        size = path.stat().st_size
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        x1 = np.random.rand(1, 1, 48, 48).astype(np.float32)
        for _ in range(10):
            sess.run(None, {"input": x1})
        t = time.perf_counter()
        for _ in range(reps):
            sess.run(None, {"input": x1})
        one = (time.perf_counter() - t) / reps * 1000
        x64 = np.random.rand(64, 1, 48, 48).astype(np.float32)
        sess.run(None, {"input": x64})
        t = time.perf_counter()
        for _ in range(5):
            sess.run(None, {"input": x64})
        batched = (time.perf_counter() - t) / 5 / 64 * 1000
    return {"onnx_mb": round(size / 1e6, 2), "ms_per_face_batch1": round(one, 3), "ms_per_face_batch64": round(batched, 3)}


def run_bench(models: list[str], epochs: int, limit_train: int, out_dir: Path, overrides: list[str] = (),
              measure_speed: bool = True) -> list[dict]:
    """``measure_speed=False`` skips the timing columns (for runs beside other CPU load, where they mean nothing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    summary_file = out_dir / "summary.json"
    if summary_file.is_file():
        rows = json.loads(summary_file.read_text())
    done = {r["model"] for r in rows}
    for name in models:
        if name in done:
            continue
        no_bf16 = name.startswith("mobilenet_v3_small")  # measured: bf16 is slower for it
        row = {"model": name, "params_m": round(count_params(create_model(name)) / 1e6, 2)}
        if measure_speed:
            row.update({"train_img_s_fp32": round(train_throughput(name, False), 1),
                        "train_img_s_bf16": round(train_throughput(name, True), 1)})
        cfg = build_config(None, [f"name={name}", f"model={name}", f"epochs={epochs}", f"limit_train={limit_train}",
                                  f"out_dir={out_dir}", f"bf16={'false' if no_bf16 else 'true'}", *overrides])
        metrics_file = out_dir / name / "metrics.json"
        if metrics_file.is_file() and len(json.loads(metrics_file.read_text())["history"]) == epochs:
            best = json.loads(metrics_file.read_text())["best"]  # trained by an earlier, interrupted bench
        else:
            best = fit(cfg, progress=False)
        row.update({"bf16": not no_bf16, "budget": f"{epochs} epochs x {limit_train} images",
                    "train_minutes": round(sum(h["epoch_seconds"] for h in json.loads(metrics_file.read_text())["history"]) / 60, 2),
                    "val_acc": best["val_acc"],
                    "val_macro_f1": best["val_macro_f1"], "val_acc_tta": best["val_acc_tta"]})
        model, _ = load_checkpoint_model(out_dir / name / "best.pt")
        if measure_speed:
            row.update(onnx_speed(model))
            row["full_epoch_minutes_est"] = round(28000 / max(row["train_img_s_bf16"], row["train_img_s_fp32"]) / 60, 2)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                row["onnx_mb"] = round(export_onnx(model, Path(tmp) / "m.onnx", max_bytes=None).stat().st_size / 1e6, 2)
        log.info("bench %s", row)
        rows.append(row)
        summary_file.write_text(json.dumps(rows, indent=1))
    return rows


def speed_table(models: list[str], out_file: Path) -> list[dict]:
    """Throughput, parameters, ONNX size and inference speed per backbone (random weights; no training)."""
    rows = []
    for name in models:
        model = create_model(name).eval()
        row = {"model": name, "params_m": round(count_params(model) / 1e6, 2), "threads": torch.get_num_threads(),
               "train_img_s_fp32": round(train_throughput(name, False), 1),
               "train_img_s_bf16": round(train_throughput(name, True), 1)}
        row["full_epoch_minutes_est"] = round(28000 / max(row["train_img_s_bf16"], row["train_img_s_fp32"]) / 60, 2)
        row.update(onnx_speed(model))
        log.info("speed %s", row)
        rows.append(row)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(rows, indent=1))
    return rows
