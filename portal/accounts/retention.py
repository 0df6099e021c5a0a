"""Retention (issue 11, RETENTION_DAYS): delete stored photos/frames older than N days; the
computations' results and the exhibits' observations (aggregates) stay. Videos and photo batches
older than N days are deleted whole (issue 18): their folders (the annotated video, the original,
the batch's photos) and their rows; a video's exhibit observations go with it, a batch's photos
keep their results and observations, as any photo does.

    removed = apply_retention(config.data_dir, days=30)
    start_retention(config.data_dir, days=30)        # run.py: now, then every 6 hours
    python -m portal.accounts.retention --days 30             # once, from cron
"""
from __future__ import annotations

import argparse
import datetime as _dt
import logging
import threading
import time
from pathlib import Path

import db
from db import retention
from portal.analyses.storage import remove_files
from portal.jobs.uploads import remove_job_folder

log = logging.getLogger(__name__)
EVERY_S = 6 * 3600


def apply_retention(data_dir: Path, days: float, now: _dt.datetime | None = None) -> int:
    """Forget and delete the images, videos and photo batches older than ``days`` (before ``now``,
    naive UTC, default the current time); returns how many files were removed."""
    with db.connection():
        paths = retention.expire_images(days, now)
        folders = [retention.forget_video(v) for v in retention.expired_videos(days, now)]
        folders += [retention.forget_batch(b) for b in retention.expired_batches(days, now)]
    removed = remove_files(data_dir, paths)
    removed += sum(remove_job_folder(data_dir, folder) for folder in folders)
    if paths or folders:
        log.info("retention: %d files older than %g days removed (%d video and batch folders)", removed, days,
                 len(folders))
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
    from portal.config import load_config

    parser = argparse.ArgumentParser(description="Delete stored images, videos and photo batches older than N days.")
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
