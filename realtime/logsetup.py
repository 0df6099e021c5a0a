"""The one logging set-up: console + optional rotating file.  Called once, at the edge: ``run.py``,
``python -m realtime``, ``python -m train``."""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"
_MARK = "_emotion_handler"


def configure_logging(log_file: str | Path | None, level: str = "INFO", *,
                      max_bytes: int = 10 * 1024 * 1024, backups: int = 5) -> None:
    """Send records of every logger to stderr and, if given, to ``log_file`` (rotated at ``max_bytes``).

    Idempotent: calling it again replaces the handlers it added before (other handlers stay).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups,
                                                             encoding="utf-8"))
    formatter = logging.Formatter(FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(getattr(logging, str(level).upper(), logging.INFO))
    # uvicorn's own access log would duplicate the portal's request log line
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
