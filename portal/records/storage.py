"""Where computation images live on disk, and removing them.

Images belong under ``DATA_DIR/uploads/<user id>/``.  The database stores
their paths relative to ``DATA_DIR`` (absolute paths inside it work too).
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger(__name__)


def user_upload_dir(data_dir: Path, user_id: int) -> Path:
    path = Path(data_dir) / "uploads" / str(int(user_id))
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_image_paths(data_dir: Path, user_id: int, suffix: str = ".png") -> tuple[str, str]:
    """Fresh (original, annotated) paths relative to ``data_dir``, for
    :func:`db.record_computation`; the caller writes the files."""
    stem = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(4)
    folder = user_upload_dir(data_dir, user_id).relative_to(data_dir)
    return str(folder / f"{stem}{suffix}"), str(folder / f"{stem}.annotated{suffix}")


def resolve(data_dir: Path, stored: str) -> Path | None:
    """The file a stored path refers to, or None if empty or outside ``data_dir``."""
    if not stored:
        return None
    base = Path(data_dir).resolve()
    path = (base / stored).resolve()
    if path != base and base not in path.parents:
        log.warning("refusing a stored path outside the data directory")
        return None
    return path


def remove_files(data_dir: Path, stored_paths) -> int:
    """Delete the files (missing ones are fine); returns how many were removed."""
    removed = 0
    for stored in stored_paths:
        path = resolve(data_dir, stored)
        if path is None:
            continue
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
        except OSError:
            log.exception("could not remove a computation file")
    return removed
