"""The FER2013 CSV format, once: the columns, one row's validation and parsing, text opening.

Used by ``train.data`` (the validated reader of every layout) and by
:mod:`realtime.research.ferdata` (a few faces for calibration and tests).
"""
from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np

CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
USAGES = ("Training", "PublicTest", "PrivateTest")
SIDE = 48
N_PIXELS = SIDE * SIDE
NO_LABEL = -1
NO_USAGE = -1
KNOWN_COLUMNS = ("emotion", "pixels", "usage")


class HeaderError(ValueError):
    """The first line does not name the expected columns."""


def open_text(path: Path):
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def parse_header(fields: list[str], name: str) -> dict[str, int]:
    cols = {f.strip().lower(): i for i, f in enumerate(fields)}
    if not fields or all(f.strip().isdigit() for f in fields[:1]):
        raise HeaderError(
            f"{name}, line 1: missing header; the first line must name the columns, "
            "e.g. 'emotion,pixels,Usage' (Kaggle), 'emotion,pixels' (train.csv) or 'pixels' (test.csv)")
    unknown = [f for f in cols if f not in KNOWN_COLUMNS]
    if unknown:
        raise HeaderError(f"{name}, line 1: unknown column(s) {unknown}; expected some of emotion, pixels, Usage")
    if "pixels" not in cols:
        raise HeaderError(f"{name}, line 1: missing column 'pixels' (header is {','.join(fields)!r})")
    return cols


def parse_row(row: list[str], cols: dict[str, int]) -> tuple[np.ndarray, int, int]:
    """Pixels, label, usage of one row; raises ValueError with the reason."""
    if len(row) != len(cols):
        raise ValueError(f"expected {len(cols)} fields ({', '.join(cols)}), found {len(row)}")
    parts = row[cols["pixels"]].split()
    if len(parts) != N_PIXELS:
        raise ValueError(f"field 'pixels': expected {N_PIXELS} values (48x48), found {len(parts)}")
    try:
        values = np.array(parts, dtype=np.int32)
    except ValueError:
        bad = next(p for p in parts if not p.lstrip("-").isdigit())
        raise ValueError(f"field 'pixels': non-numeric value {bad[:20]!r}") from None
    if values.min() < 0 or values.max() > 255:
        bad = int(values[(values < 0) | (values > 255)][0])
        raise ValueError(f"field 'pixels': value {bad} outside 0..255")
    label = NO_LABEL
    if "emotion" in cols:
        text = row[cols["emotion"]].strip()
        if not text.isdigit() or not 0 <= int(text) < len(CLASSES):
            raise ValueError(f"field 'emotion': label {text!r} is not an integer 0..{len(CLASSES) - 1}")
        label = int(text)
    usage = NO_USAGE
    if "usage" in cols:
        text = row[cols["usage"]].strip()
        if text not in USAGES:
            raise ValueError(f"field 'Usage': unknown value {text!r}; expected one of {', '.join(USAGES)}")
        usage = USAGES.index(text)
    return values.astype(np.uint8), label, usage
