"""Gradio's temporary files: kept in a private folder of the data directory and pruned.

    cache = use_private_cache(data_dir)        # before the Blocks is built (sets GRADIO_TEMP_DIR)
    start_pruning(cache, every_s=60, max_age_s=600)

Gradio copies every upload, every result image and every download it hands to a browser
into its cache. Those are face images: they must not outlive their use. Uploads are
removed right after they are analysed (:func:`portal.gradio_app.events.discard_upload`);
a computation's result image and downloads are removed with the computation
(:func:`portal.analyses.storage.remove_cached_copies`); everything else (a photo chosen but
never run, copies a crash left behind) goes after ``max_age_s``: at start-up and then
every ``every_s`` seconds.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from portal.analyses.storage import gradio_cache_dir

log = logging.getLogger(__name__)


def use_private_cache(data_dir: Path) -> Path:
    """Point Gradio's temporary files at ``DATA_DIR/gradio`` (owner-only like the rest)."""
    cache = gradio_cache_dir(data_dir).resolve()
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ["GRADIO_TEMP_DIR"] = str(cache)  # read by Gradio when components and routes are made
    return cache


def prune(cache: Path, max_age_s: float) -> int:
    """Remove files (and then empty folders) under ``cache`` older than ``max_age_s``."""
    cutoff, removed = time.time() - max_age_s, 0
    for path in sorted(Path(cache).rglob("*"), reverse=True):
        try:
            if path.is_dir() and not path.is_symlink():
                if not any(path.iterdir()) and path.lstat().st_mtime < cutoff:
                    path.rmdir()
            elif path.lstat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue  # removed meanwhile by Gradio or another prune
    if removed:
        log.info("removed %d expired files from Gradio's cache", removed)
    return removed


def start_pruning(cache: Path, every_s: float, max_age_s: float) -> threading.Thread:
    """Prune now, then every ``every_s`` seconds, in a daemon thread."""
    prune(cache, max_age_s)

    def loop() -> None:
        while True:
            time.sleep(every_s)
            try:
                prune(cache, max_age_s)
            except Exception:  # noqa: BLE001 - keep pruning
                log.exception("pruning Gradio's cache failed")

    thread = threading.Thread(target=loop, name="gradio-cache-prune", daemon=True)
    thread.start()
    return thread
