"""What a job worker needs to know, built once from the portal Config (picklable: it travels
to the pool's processes)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from realtime.video_io import VideoLimits


@dataclass(frozen=True)
class JobSettings:
    data_dir: Path
    database_url: str
    redis_url: str = ""
    workers: int = 0  # embedded pool size; 0: one per core
    stale_s: float = 60.0  # a running job without a heartbeat this long was abandoned
    video_limits: VideoLimits = field(default_factory=VideoLimits)
    batch_max_photos: int = 500
    model_path: str | None = None

    @property
    def backend(self) -> str:
        return "celery" if self.redis_url else "embedded"

    @property
    def pool_size(self) -> int:
        return self.workers or os.cpu_count() or 1

    @classmethod
    def from_config(cls, config) -> "JobSettings":
        return cls(data_dir=Path(config.data_dir), database_url=config.database_url, redis_url=config.redis_url,
                   workers=config.job_workers, stale_s=config.job_stale_seconds,
                   video_limits=VideoLimits(max_bytes=int(config.video_max_mb * 1024 * 1024),
                                            max_duration_s=config.video_max_seconds),
                   batch_max_photos=config.batch_max_photos)
