"""Logging to the console and to a file (``logs/train.log`` by default)."""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

DEFAULT_LOG = Path(__file__).resolve().parent.parent / "logs" / "train.log"


def setup_logging(log_file: str | Path | None = DEFAULT_LOG, level: str = "INFO") -> None:
    root = logging.getLogger()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for h in list(root.handlers):
        root.removeHandler(h)
    console = logging.StreamHandler()
    console.setFormatter(fmt)
    root.addHandler(console)
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        fh = logging.handlers.RotatingFileHandler(log_file, maxBytes=5_000_000, backupCount=3)
        fh.setFormatter(fmt)
        root.addHandler(fh)
    import warnings
    warnings.filterwarnings("ignore", message=".*TensorFloat32.*")
