"""Settings of the web app (live webcam + upload), built once at the edge and passed in.

Environment variables (read only by :func:`portal.config.analysis_settings_from_env`, called from ``run.py``):

    EMOTION_MODEL        ONNX model path (default onnx/emotion.onnx; its .json beside it)
    UPLOAD_DETECTOR      face detector for uploaded photos (default: the core's default,
                         chosen for small faces in group photos)
    LIVE_DETECTOR        face detector for webcam frames (default "full": one pass, ~5 ms)
    UPLOAD_MAX_MB        largest accepted upload in megabytes (default 15)
    UPLOAD_MAX_PIXELS    largest accepted image in pixels (default 40,000,000)
    LIVE_STREAM_EVERY    seconds between webcam frames sent by the browser (default 0.05)
    LIVE_STREAMS_PER_USER  webcam streams one account may run at once (default 2)
    LIVE_MAX_STREAMS     webcam streams open at once, all users (default 32)
    LIVE_TIME_LIMIT      seconds one webcam stream may run before it is restarted (default 1800)
    UPLOADS_PER_MINUTE   photos one account may analyse per minute (default 10)
    CLASSIFIER_THREADS   onnxruntime threads for the classifier (default 1; 0 = all cores)
"""
from __future__ import annotations

from dataclasses import dataclass

from realtime import DEFAULT_DETECTOR, DEFAULT_MAX_PIXELS, PipelineConfig


@dataclass(frozen=True)
class AnalysisSettings:
    model_path: str | None = None  # None: onnx/emotion.onnx
    upload_detector: str = DEFAULT_DETECTOR
    live_detector: str = "full"
    max_upload_bytes: int = 15 * 1024 * 1024
    max_pixels: int = DEFAULT_MAX_PIXELS
    stream_every: float = 0.04  # the browser sends a frame this often (the newest one wins on the server): 25/s, so that 20/s arrive end to end
    stream_time_limit: int = 30 * 60  # seconds one webcam stream may run before it must be restarted
    live_jpeg_quality: int = 72  # frames sent back to the browser
    webcam_jpeg_quality: float = 0.75  # frames the browser sends (its default is 0.92)
    saved_jpeg_quality: int = 92  # images kept for a computation
    download_max_age_s: int = 600  # generated PDF/JSON files older than this are removed
    # onnxruntime threads for the classifier. 1: a 48x48 face is too small to split, and
    # idle-spinning worker threads steal the CPU MediaPipe needs (measured on 2 busy cores:
    # 0 = all cores, 28-36 ms per webcam frame; 1 thread, 14-17 ms)
    classifier_threads: int = 1
    warm_up: bool = True  # load the model and both detectors in the background at start-up
    # fair share (issue 9): see docs/security.md
    streams_per_user: int = 2  # webcam streams one account may hold open at once (also idle)
    stream_idle_s: float = 10.0  # a stream without a frame for this long stops counting
    max_streams: int = 32  # webcam streams open at once, all users together
    uploads_per_minute: int = 10  # photos one account may analyse per minute
    upload_requests_per_minute: int = 30  # requests to Gradio's upload route per account and minute
    max_frame_bytes: int = 1024 * 1024  # largest encoded webcam frame (640x480 JPEG: ~60 KB)
    max_frame_pixels: int = 1920 * 1080  # largest webcam frame, checked from its header
    cache_max_age_s: int = 600  # Gradio's temporary files older than this are removed
    cache_prune_every_s: int = 60  # ... checked this often (and at start-up)

    def upload_pipeline(self) -> PipelineConfig:
        return PipelineConfig(detector=self.upload_detector, model_path=self.model_path,
                              max_pixels=self.max_pixels)

    def live_pipeline(self) -> PipelineConfig:
        return PipelineConfig(detector=self.live_detector, model_path=self.model_path,
                              max_pixels=self.max_pixels)

    @property
    def max_upload_mb(self) -> float:
        return self.max_upload_bytes / (1024 * 1024)
