"""Logging set-up: console + rotating file.  Called once, by run.py."""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"
_MARK = "_emotion_portal_handler"


def configure_logging(log_file: str | Path, level: str = "INFO") -> None:
    """Send records of every logger to stderr and to ``log_file`` (10 MB x 5).

    Idempotent: calling it again replaces the handlers it added before.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            root.removeHandler(handler)
            handler.close()
    formatter = logging.Formatter(FORMAT)
    path = Path(log_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    handlers = [logging.StreamHandler(),
                logging.handlers.RotatingFileHandler(path, maxBytes=10 * 1024 * 1024,
                                                     backupCount=5, encoding="utf-8")]
    for handler in handlers:
        handler.setFormatter(formatter)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(getattr(logging, str(level).upper(), logging.INFO))
    # uvicorn's own access log would duplicate our request log line.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
