"""Analyse a video file: every frame (or ``sample_fps`` per second) through detector +
classifier, faces tracked across frames (the live ``Stream`` tracker), results streamed to
``result.json`` + ``timeline.csv`` and an annotated H.264 MP4, one frame at a time.

    from realtime.video import VideoConfig, analyse_video
    result = analyse_video("in.mp4", "out/", VideoConfig(preset="room"), progress=print)

``progress(fraction)`` is called a few times per second; ``should_stop()`` before each frame
(return True to cancel: :class:`VideoCancelled` is raised and every output file removed).
"""
from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .config import DEFAULT_DETECTOR, PipelineConfig, StreamConfig
from .draw import DrawStyle, draw_analysis
from .pipeline import Analyzer, get_analyzer
from .stream import Stream
from .video_auto import AUTO, DetectorChoice, choose, explicit
from .video_io import H264Writer, VideoInfo, VideoLimits, probe, read_frames
from .video_records import ResultWriter

log = logging.getLogger(__name__)

#: Detector per kind of footage, chosen by measurement (docs/video.md, "Room camera").
PRESETS: dict[str, str] = {
    "default": DEFAULT_DETECTOR,  # people within a few metres (webcam, kiosk, interview)
    "close": "full",  # one or two large faces: the fastest detector that finds them every frame
    "room": "full-tiled3@0.5",  # a camera overlooking a room: faces 12-25 px high in 480x270
}
#: Tiled detectors in videos run their tiles in turn (StreamConfig.tile_every), measured in
#: docs/video.md ("Tiles in turn"): the same faces at a third of the detector calls.
TILE_EVERY: dict[str, int] = {"default": 3, "room": 2}
#: What a user may ask for: ``auto`` (the default) measures the first seconds (realtime/video_auto.py).
PRESET_CHOICES: tuple[str, ...] = (AUTO, *PRESETS)
NO_BARS = DrawStyle(bars=False, crowded=10**9)  # when the bars would need a side panel (frame size must not change)


class VideoCancelled(Exception):
    """The analysis was stopped by ``should_stop``; nothing was kept."""


@dataclass(frozen=True)
class VideoConfig:
    preset: str = AUTO  # auto: chosen per video by measurement (video_auto.choose)
    detector: str | None = None  # overrides the preset
    model_path: str | None = None
    sample_fps: float | None = None  # None: every frame
    stream: StreamConfig | None = None  # None: StreamConfig() with the preset's tile_every
    limits: VideoLimits = field(default_factory=VideoLimits)
    annotate: bool = True
    upright: bool = True  # crops turned so the eye line is level (PipelineConfig.upright)
    crf: int = 23
    x264_preset: str = "ultrafast"  # 3x faster than veryfast here, files ~3x larger (docs/video.md)

    def validate(self) -> None:
        if self.preset not in PRESET_CHOICES:
            raise ValueError(f"unknown video preset '{self.preset}'; choose one of: {', '.join(PRESET_CHOICES)}")
        if self.sample_fps is not None and not self.sample_fps > 0:
            raise ValueError(f"sample_fps must be a positive number of frames per second, got {self.sample_fps}")

    def resolve(self, path: str | Path) -> tuple["VideoConfig", DetectorChoice]:
        """This config with ``auto`` replaced by the preset the video needs, and why."""
        self.validate()
        if self.preset != AUTO or self.detector:
            preset = "default" if self.preset == AUTO else self.preset  # a detector of one's own: no probe
            return replace(self, preset=preset), explicit(preset, self.preset, self.detector)
        choice = choose(path, self.limits)
        return replace(self, preset=choice.preset), choice

    def pipeline(self) -> PipelineConfig:
        self.validate()
        preset = "default" if self.preset == AUTO else self.preset  # resolve() first to measure
        return PipelineConfig(detector=self.detector or PRESETS[preset], model_path=self.model_path,
                              upright=self.upright)

    def stream_config(self) -> StreamConfig:
        preset = "default" if self.preset == AUTO else self.preset  # resolve() first to measure
        return self.stream or StreamConfig(tile_every=TILE_EVERY.get(preset, 1))


@dataclass
class VideoResult:
    info: VideoInfo
    frames: int
    frames_analysed: int
    tracks: list[dict[str, Any]]
    timing_s: dict[str, float]
    out_dir: Path
    files: dict[str, Path]
    choice: DetectorChoice | None = None  # the preset used and why (auto: measured)

    @property
    def fps_processed(self) -> float:
        return self.frames / max(self.timing_s["total"], 1e-9)


class _Sampler:
    """Which frames to analyse: all, or the first frame at or after each 1/sample_fps step."""

    def __init__(self, sample_fps: float | None):
        self.step = 1.0 / sample_fps if sample_fps else 0.0
        self.next_t = 0.0

    def take(self, t: float) -> bool:
        if not self.step:
            return True
        if t + 1e-6 < self.next_t:
            return False
        self.next_t = max(self.next_t + self.step, t + self.step / 2)
        return True


class _Annotator:
    """Draws the latest faces on each frame into the H.264 writer (opened on the first frame)."""

    def __init__(self, path: Path, fps: float, config: VideoConfig, classes: list[str]):
        self.path, self.fps, self.config, self.classes = path, fps, config, classes
        self.writer: H264Writer | None = None

    def write(self, rgb: np.ndarray, faces: list) -> None:
        if self.writer is None:  # the frame size as drawn (small videos are upscaled), without a side panel
            h, w = draw_analysis(rgb, [], self.classes).shape[:2]
            self.writer = H264Writer(self.path, w, h, self.fps, crf=self.config.crf, preset=self.config.x264_preset)
        img = draw_analysis(rgb, faces, self.classes)
        if img.shape[1] != self.writer.size[0]:  # crowded: the bars went to a side panel
            img = draw_analysis(rgb, faces, self.classes, style=NO_BARS)
        self.writer.write(img)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _tail(info: VideoInfo, writer: ResultWriter, analyzer: Analyzer, *, frames: int, config: VideoConfig,
          timing: dict[str, float], choice: DetectorChoice) -> dict[str, Any]:
    return {
        "video": {"width": info.width, "height": info.height, "fps": round(info.fps, 3),
                  "duration_s": round(max(info.duration_s, frames / info.fps), 3), "frames": frames,
                  "frames_analysed": writer.entries, "sample_fps": config.sample_fps,
                  "container": info.container, "codec": info.codec, "preset": config.preset},
        "tracks": writer.track_summaries(_step(info, config)),
        "model": {"name": analyzer.classifier.name, "version": analyzer.classifier.version},
        "uncertainty": {"rule": analyzer.uncertainty.rule, "threshold": analyzer.uncertainty.threshold},
        "detector": analyzer.spec.name, "detector_choice": choice.to_dict(),
        "classes": list(analyzer.classifier.classes),
        "timing_s": {k: round(v, 3) for k, v in timing.items()},
    }


def _step(info: VideoInfo, config: VideoConfig) -> float:
    """Seconds one analysed frame stands for (added to a track's last - first seen)."""
    return 1.0 / min(config.sample_fps, info.fps) if config.sample_fps else 1.0 / info.fps


def analyse_video(path: str | Path, out_dir: str | Path, config: VideoConfig | None = None, *,
                  progress: Callable[[float], None] | None = None,
                  should_stop: Callable[[], bool] | None = None,
                  analyzer: Analyzer | None = None) -> VideoResult:
    """Analyse ``path`` into ``out_dir`` (result.json, timeline.csv, annotated.mp4).

    Raises VideoError for bad input (checked before anything is written), VideoCancelled."""
    config = config or VideoConfig()
    config.validate()
    info = probe(path, config.limits)
    config, choice = config.resolve(path)  # auto: probes the first seconds
    pipeline_config = config.pipeline()
    analyzer = analyzer or get_analyzer(pipeline_config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writer = ResultWriter(out, analyzer.classifier.classes, analyzer.uncertainty)
    annotator = _Annotator(out / "annotated.mp4", info.fps, config, list(analyzer.classifier.classes))
    try:
        frames, timing = _run(path, info, config, analyzer, writer, annotator, progress, should_stop)
        annotator.close()
        writer.finish(_tail(info, writer, analyzer, frames=frames, config=config, timing=timing,
                            choice=choice))
    except BaseException:
        with contextlib.suppress(Exception):  # the original error is the one to report
            annotator.close()
        writer.abort()
        (out / "annotated.mp4").unlink(missing_ok=True)
        raise
    files = {"json": writer.json_path, "csv": writer.csv_path}
    if config.annotate:
        files["video"] = out / "annotated.mp4"
    log.info("video %s: %d frames (%d analysed), %d tracks, %.1f frames/s", Path(path).name, frames,
             writer.entries, len(writer.tracks), frames / max(timing["total"], 1e-9))
    return VideoResult(info, frames, writer.entries, writer.track_summaries(_step(info, config)), timing, out, files,
                       choice)


def _run(path, info: VideoInfo, config: VideoConfig, analyzer: Analyzer, writer: ResultWriter,
         annotator: _Annotator, progress, should_stop) -> tuple[int, dict[str, float]]:
    stream = Stream(stream_config=config.stream_config(), analyzer=analyzer)
    sampler = _Sampler(config.sample_fps)
    timing = dict.fromkeys(("decode", "detect", "classify", "track", "draw_encode", "write", "total"), 0.0)
    faces: list = []
    frames, last_report, t_start = 0, 0.0, time.perf_counter()
    clock = time.perf_counter()
    for index, t, rgb in read_frames(path, config.limits):
        now = time.perf_counter()
        timing["decode"] += now - clock
        if should_stop is not None and should_stop():
            raise VideoCancelled(f"stopped at frame {index}")
        if sampler.take(t):
            analysis = stream.process(rgb)
            faces = analysis.faces
            t1 = time.perf_counter()
            timing["detect"] += analysis.timing_ms["detect"] / 1000.0
            timing["classify"] += analysis.timing_ms["classify"] / 1000.0
            timing["track"] += (t1 - now) - sum(analysis.timing_ms[k] for k in ("decode", "detect", "classify")) / 1000.0
            writer.add(t, index, faces)
            timing["write"] += time.perf_counter() - t1
        t2 = time.perf_counter()
        if config.annotate:
            annotator.write(rgb, faces)
        clock = time.perf_counter()
        timing["draw_encode"] += clock - t2
        frames += 1
        if progress is not None and clock - last_report > 0.5:
            last_report = clock
            progress(min(0.99, (t + 1.0 / info.fps) / info.duration_s) if info.duration_s else 0.0)
    timing["total"] = time.perf_counter() - t_start
    if progress is not None:
        progress(1.0)
    return frames, timing
