"""The one logging set-up: console + optional rotating file.  Called once, at the edge: ``run.py``,
``python -m realtime``, ``python -m train``.

Log lines carry user input (login names, titles, paths...).  :class:`SafeFormatter`
escapes control characters in every message, so a newline in a login name cannot
forge a second log line; tracebacks keep their own line breaks.
"""
from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"
_MARK = "_emotion_handler"
# C0/C1 controls (newline, carriage return, escape...), line/paragraph separators, bidi overrides
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\x1b``...)."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class SafeFormatter(logging.Formatter):
    """A Formatter whose messages (after %-formatting) cannot span lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        message = record.message
        record.message = escape_controls(message)
        try:
            return super().formatMessage(record)
        finally:
            record.message = message


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
    formatter = SafeFormatter(FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(getattr(logging, str(level).upper(), logging.INFO))
    # uvicorn's own access log would duplicate the portal's request log line
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # fpdf2 subsets fonts with fontTools, which logs ~100 INFO lines per PDF
    logging.getLogger("fontTools").setLevel(logging.WARNING)
