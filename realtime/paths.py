"""Where things are on disk: the one place for the project's default paths.

The defaults only; configuration is still built at the edge (CLI flags, ``run.py``) and passed in.
``FER2013_CSV`` (environment) overrides the dataset's default location for every tool.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONNX_DIR = ROOT / "onnx"
DEFAULT_MODEL = ONNX_DIR / "emotion.onnx"
LOGS_DIR = ROOT / "logs"
DOCS_RESULTS = ROOT / "docs" / "results"
#: the shared data folder beside the repository (``../shared/data/fer2013/fer2013.csv.gz``)
SHARED_FER2013 = ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"


def data_cache_dir() -> Path:
    """Where parsed datasets are cached: ``$EMOTION_CACHE_DIR`` if set, else ``.cache/data``."""
    return Path(os.environ.get("EMOTION_CACHE_DIR") or ROOT / ".cache" / "data")


def fer2013_csv() -> Path:
    """The FER2013 CSV: ``$FER2013_CSV`` if set, else :data:`SHARED_FER2013`."""
    return Path(os.environ.get("FER2013_CSV") or SHARED_FER2013)
