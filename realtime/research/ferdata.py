"""Read a few FER2013 faces from the shared CSV (for calibration, the detector set, tests)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..paths import fer2013_csv
from .fercsv import open_text, parse_header, parse_row


def fer_csv_path() -> Path:
    return fer2013_csv()


def load_fer_faces(usage: str = "PublicTest", limit: int = 100, path: str | Path | None = None,
                   balanced: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``limit`` faces of split ``usage``: (N,48,48) uint8 and labels (N,), in file order.

    The shared CSV is sorted by emotion, so ``balanced`` (default) takes the first
    ceil(limit/7) faces of each class instead of the first ``limit`` rows.
    """
    path = Path(path) if path else fer_csv_path()
    if not path.is_file():
        raise FileNotFoundError(f"FER2013 CSV not found: {path} (set FER2013_CSV)")
    per_class = -(-limit // 7) if balanced else limit
    counts: dict[int, int] = {}
    rows: list[tuple[int, int, np.ndarray]] = []
    with open_text(path) as fh:
        reader = csv.reader(fh)
        cols = parse_header(next(reader), str(path))
        for row in reader:
            if row and row[cols["usage"]].strip() != usage:
                continue
            try:
                px, label, _ = parse_row(row, cols)
            except ValueError:
                continue  # research sampler: a malformed row is simply not sampled
            if counts.get(label, 0) >= per_class:
                continue
            counts[label] = counts.get(label, 0) + 1
            rows.append((counts[label], label, px.reshape(48, 48)))
            if not balanced and len(rows) >= limit:
                break
    rows.sort(key=lambda r: (r[0], r[1]))  # interleave classes: 0,1,..,6,0,1,..
    rows = rows[:limit]
    if not rows:
        return np.zeros((0, 48, 48), np.uint8), np.zeros(0, np.int64)
    return np.stack([r[2] for r in rows]), np.array([r[1] for r in rows], dtype=np.int64)
