"""Read a few FER2013 faces from the shared CSV (for calibration, the detector set, tests)."""
from __future__ import annotations

import csv
import gzip
import os
from pathlib import Path

import numpy as np

DEFAULT_FER_CSV = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"


def fer_csv_path() -> Path:
    return Path(os.environ.get("FER2013_CSV", str(DEFAULT_FER_CSV)))


def load_fer_faces(usage: str = "PublicTest", limit: int = 100, path: str | Path | None = None,
                   skip: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` faces (after ``skip``) of split ``usage``: (N,48,48) uint8 and labels (N,)."""
    path = Path(path) if path else fer_csv_path()
    if not path.is_file():
        raise FileNotFoundError(f"FER2013 CSV not found: {path} (set FER2013_CSV)")
    opener = gzip.open if path.suffix == ".gz" else open
    faces, labels = [], []
    seen = 0
    with opener(path, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Usage"] != usage:
                continue
            seen += 1
            if seen <= skip:
                continue
            px = np.array(row["pixels"].split(), dtype=np.uint8)
            if px.size != 48 * 48:
                continue
            faces.append(px.reshape(48, 48))
            labels.append(int(row["emotion"]))
            if len(faces) >= limit:
                break
    return np.stack(faces) if faces else np.zeros((0, 48, 48), np.uint8), np.array(labels, dtype=np.int64)
