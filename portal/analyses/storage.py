"""Where computation files live on disk, and removing them.

Images belong under ``DATA_DIR/uploads/<user id>/``.  The database stores
their paths relative to ``DATA_DIR`` (absolute paths inside it work too).
Generated PDF/JSON downloads live in ``DATA_DIR/downloads/<computation id>-<random>/``;
they go with their computation (:func:`remove_downloads`).  At start-up,
:func:`remove_orphans` deletes what a crash (e.g. SIGKILL mid-upload) left behind.
"""
from __future__ import annotations

import logging
import secrets
import shutil
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

ORPHAN_GRACE_S = 600  # younger files may belong to an upload another process is recording

log = logging.getLogger(__name__)


def user_upload_dir(data_dir: Path, user_id: int) -> Path:
    path = Path(data_dir) / "uploads" / str(int(user_id))
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_private(data_dir: Path, database_file: Path | None = None) -> None:
    """DATA_DIR (created if needed) readable by its owner only (0700), and the SQLite
    database files 0600, also when an older version made them world-readable.  New files
    get owner-only modes from the process umask (run.py sets 077 at start-up)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    data_dir.chmod(0o700)
    if database_file is not None:
        for path in (database_file, *(Path(f"{database_file}{s}") for s in ("-wal", "-shm"))):
            if path.is_file():
                path.chmod(0o600)


def downloads_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "downloads"


def gradio_cache_dir(data_dir: Path) -> Path:
    """Gradio's temporary files (uploads, result images, downloads handed to the browser):
    private to this data directory, so deleting a computation can reach its copies there."""
    return Path(data_dir) / "gradio"


def remove_cached_copies(data_dir: Path, comp_ids: Iterable[int]) -> int:
    """Delete Gradio's copies of these computations' result image and downloads (files
    named ``emotion-<id>-*``, each in a folder of its own); returns how many."""
    cache, removed = gradio_cache_dir(data_dir), 0
    if not cache.is_dir():
        return 0
    for comp_id in comp_ids:
        for path in list(cache.rglob(f"emotion-{int(comp_id)}-*")):
            path.unlink(missing_ok=True)
            removed += 1
            try:
                path.parent.rmdir()
            except OSError:
                pass
    return removed


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


def remove_downloads(data_dir: Path, comp_ids: Iterable[int]) -> int:
    """Delete every generated download folder of these computations, and Gradio's copies
    of their files; returns how many."""
    folder, removed = downloads_dir(data_dir), 0
    if not folder.is_dir():
        return remove_cached_copies(data_dir, comp_ids)
    comp_ids = list(comp_ids)
    for comp_id in comp_ids:
        for path in folder.glob(f"{int(comp_id)}-*"):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed + remove_cached_copies(data_dir, comp_ids)


def _old(path: Path, cutoff: float) -> bool:
    try:
        return path.lstat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def remove_orphans(data_dir: Path, stored_paths: Iterable[str],
                   grace_s: float = ORPHAN_GRACE_S) -> int:
    """Remove images no computation refers to, empty upload folders and generated
    downloads (re-made on demand; Gradio keeps its own copy), all only when older than
    ``grace_s`` (another process may be writing them); returns how many were removed."""
    base = Path(data_dir).resolve()
    cutoff = time.time() - grace_s
    keep = {p for p in (resolve(base, s) for s in stored_paths) if p is not None}
    removed = 0
    uploads = base / "uploads"
    for path in sorted(uploads.rglob("*"), reverse=True) if uploads.is_dir() else ():
        if path.is_file() and path.resolve() not in keep and _old(path, cutoff):
            path.unlink(missing_ok=True)
            removed += 1
        elif path.is_dir() and not any(path.iterdir()) and _old(path, cutoff):
            path.rmdir()
            removed += 1
    downloads = downloads_dir(base)
    for path in downloads.iterdir() if downloads.is_dir() else ():
        if _old(path, cutoff):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
            removed += 1
    if removed:
        log.info("start-up clean-up: removed %d orphaned files/folders from the data directory", removed)
    return removed
