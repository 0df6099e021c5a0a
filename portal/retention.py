"""Retention (issue 11, RETENTION_DAYS): delete stored photos/frames older than N days; the
computations' results and the exhibits' observations (aggregates) stay.

    removed = apply_retention(config.data_dir, days=30)
    start_retention(config.data_dir, days=30)        # run.py: now, then every 6 hours
    python -m portal.retention --days 30             # once, from cron
"""
from __future__ import annotations

import argparse
import logging
import threading
import time
from pathlib import Path

import db
from db.retention import expire_images

from .records.storage import remove_files

log = logging.getLogger(__name__)
EVERY_S = 6 * 3600


def apply_retention(data_dir: Path, days: float) -> int:
    """Forget and delete the images older than ``days``; returns how many files were removed."""
    with db.connection():
        paths = expire_images(days)
    removed = remove_files(data_dir, paths)
    if paths:
        log.info("retention: %d image files older than %g days removed", removed, days)
    return removed


def start_retention(data_dir: Path, days: float, every_s: float = EVERY_S) -> threading.Thread:
    """Apply retention now and then every ``every_s`` seconds in a daemon thread."""
    def loop() -> None:
        while True:
            try:
                apply_retention(data_dir, days)
            except Exception:  # noqa: BLE001 - keep the schedule; the next run retries
                log.exception("retention run failed")
            time.sleep(every_s)

    thread = threading.Thread(target=loop, name="retention", daemon=True)
    thread.start()
    return thread


def main(argv=None) -> int:
    from .config import load_config

    parser = argparse.ArgumentParser(description="Delete stored images older than N days.")
    parser.add_argument("--days", type=float, required=True)
    args = parser.parse_args(argv)
    if args.days <= 0:
        parser.error("--days must be positive")
    config = load_config()
    db.init(config.database_url)
    print(f"{apply_retention(config.data_dir, args.days)} files removed")  # noqa: T201 - CLI output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
