"""Measure test-time variants of trained checkpoints on the validation split (PublicTest).

Each variant becomes a row of docs/results/variants.json, read by the report:
single model, flip TTA, multi-shift TTA, and ensembles of several runs.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch

from realtime.contract import MEAN, STD, tta_views

from .augment import normalise
from .cache import load_faces
from .data import CLASSES
from .export import load_checkpoint_model
from .metrics import confusion_matrix, summarize
from .tta import mean_softmax

log = logging.getLogger(__name__)

VIEW_MODES = {"plain": "off", "flip": "flip", "shift-flip": "full"}  # row names -> realtime.contract TTA modes


@torch.no_grad()
def view_probs(model, images: np.ndarray, views: str) -> np.ndarray:
    """Mean softmax over the views: 'plain', 'flip' or 'shift-flip' (5 shifts x 2 flips)."""
    x = normalise(torch.from_numpy(images).float().div(255).unsqueeze(1), MEAN, STD)
    views_ = tta_views(VIEW_MODES[views])
    out = np.zeros((len(images), len(CLASSES)), np.float64)
    for i in range(0, len(x), 512):
        out[i:i + 512] = mean_softmax(model, x[i:i + 512], views_).numpy()
    return out


def measure(run_dirs: list[Path], data: str, out: Path) -> list[dict]:
    faces = load_faces(data, progress=False).select_usage("PublicTest")
    y = faces.labels.astype(int)
    models = {Path(r).name: load_checkpoint_model(Path(r) / "best.pt")[0] for r in run_dirs}
    rows, cache = [], {}

    def row(name, probs, kept, note=""):
        m = summarize(confusion_matrix(y, probs.argmax(1), len(CLASSES)), CLASSES)
        rows.append({"variant": name, "accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "kept": kept, "note": note,
                     "disgust_recall": m["per_class"]["disgust"]["recall"]})
        log.info("%-50s acc %.4f  macro-F1 %.4f", name, m["accuracy"], m["macro_f1"])

    for name, model in models.items():
        for views in ("plain", "flip", "shift-flip"):
            cache[name, views] = view_probs(model, faces.images, views)
        row(f"{name}", cache[name, "plain"], "yes (default)" if name == list(models)[0] else "as ensemble member")
        row(f"{name} + flip TTA", cache[name, "flip"], "yes (--tta)", "2 views")
        row(f"{name} + 5-shift x flip TTA", cache[name, "shift-flip"], "see note", "10 views, +/-2 px shifts")
    if len(models) > 1:
        for views in ("plain", "flip", "shift-flip"):
            probs = np.mean([cache[n, views] for n in models], axis=0)
            row(f"ensemble of {', '.join(models)} ({views})", probs, "yes (--tta)" if views == "flip" else "see note")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))
    return rows
