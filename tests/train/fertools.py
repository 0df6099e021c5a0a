"""Helpers that write tiny FER2013-style files for the tests."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from realtime.paths import fer2013_csv

SHARED = fer2013_csv()


def make_faces(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n random 48x48 uint8 faces with labels cycling 0..6."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 48, 48), dtype=np.uint8), np.arange(n) % 7


def pixels_text(img: np.ndarray) -> str:
    return " ".join(str(int(v)) for v in img.reshape(-1))


def write_csv(path: Path, images, labels=None, usages=None, header=None) -> Path:
    cols = (["emotion"] if labels is not None else []) + ["pixels"] + (["Usage"] if usages is not None else [])
    lines = [",".join(header or cols)]
    for i, img in enumerate(images):
        row = ([str(int(labels[i]))] if labels is not None else []) + [pixels_text(img)]
        row += [usages[i]] if usages is not None else []
        lines.append(",".join(row))
    data = ("\n".join(lines) + "\n").encode()
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


