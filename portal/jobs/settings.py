"""What a job worker needs to know, built once from the portal Config (picklable: it travels
to the pool's processes)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from realtime import VideoLimits


@dataclass(frozen=True)
class JobSettings:
    data_dir: Path
    database_url: str
    redis_url: str = ""
    workers: int = 0  # embedded pool size; 0: one per core
    stale_s: float = 60.0  # a running job without a heartbeat this long was abandoned
    video_limits: VideoLimits = field(default_factory=VideoLimits)
    batch_max_photos: int = 500
    batch_max_bytes: int = 500 * 2**20  # photos of one batch, unpacked (BATCH_MAX_MB)
    batch_user_max_bytes: int = 2000 * 2**20  # photos waiting in one account's batches (BATCH_USER_MAX_MB)
    queue_per_user: int = 20  # jobs one account may have queued or running (JOB_QUEUE_PER_USER)
    running_per_user: int = 1  # jobs of one account that run at once (JOB_RUNNING_PER_USER)
    model_path: str | None = None  # EMOTION_MODEL (None: onnx/emotion.onnx)
    detector: str | None = None  # UPLOAD_DETECTOR for batch photos (None: the engine's default)

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
                                            max_duration_s=config.video_max_seconds, max_fps=config.video_max_fps),
                   batch_max_photos=config.batch_max_photos, batch_max_bytes=int(config.batch_max_mb * 2**20),
                   batch_user_max_bytes=int(config.batch_user_max_mb * 2**20),
                   queue_per_user=config.job_queue_per_user, running_per_user=config.job_running_per_user,
                   model_path=config.emotion_model, detector=config.upload_detector)
