"""``python -m train ensembles A.onnx B.onnx ...``: PublicTest accuracy and macro-F1 of every
exported model and every ensemble of them (mean probabilities), on 1 view, 2 (mirror) and 10
(mirror x 5 shifts), through onnxruntime. Each model's probabilities are computed once.

Choosing the best of many subsets on PublicTest and reporting its PublicTest number is biased
upwards: the output is for reading, and ``onnx/ensemble.json`` should be chosen by a rule
(e.g. every model), not by the top row."""
from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path

import numpy as np

from realtime.classifier import load_classifier

from .cache import load_faces
from .data import CLASSES
from .metrics import confusion_matrix, summarize

log = logging.getLogger(__name__)

VIEWS = ("off", "flip", "full")  # 1, 2 and 10 views (realtime.contract)


def measure(models: list[str], data: str, usage: str = "PublicTest") -> list[dict]:
    """One row per (subset of ``models``, views), best first."""
    faces = load_faces(data, progress=False).select_usage(usage)
    y = faces.labels.astype(int)
    probs = {}
    for path in models:
        clf = load_classifier(path)
        for views in VIEWS:
            probs[path, views] = clf.predict(faces.images, tta=False if views == "off" else views)
    rows = []
    for k in range(1, len(models) + 1):
        for combo in itertools.combinations(models, k):
            for views in VIEWS:
                p = np.mean([probs[m, views] for m in combo], axis=0)
                m = summarize(confusion_matrix(y, p.argmax(1), len(CLASSES)), CLASSES)
                rows.append({"models": [Path(c).name for c in combo], "views": views,
                             "accuracy": round(m["accuracy"], 4), "macro_f1": round(m["macro_f1"], 4)})
    return sorted(rows, key=lambda r: (-r["accuracy"], -r["macro_f1"]))


def write(rows: list[dict], out: Path | None) -> None:
    for r in rows:
        log.info("%.4f  %.4f  %-4s  %s", r["accuracy"], r["macro_f1"], r["views"], " + ".join(r["models"]))
    if out:
        out.write_text(json.dumps(rows, indent=1) + "\n")
