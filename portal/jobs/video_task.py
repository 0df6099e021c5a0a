"""The video job: analyse the uploaded file into its folder, record the numbers on the video.

The uploaded original is removed once the analysis succeeded (the annotated video, the
timeline and the CSV are what the user asked for); a failed or cancelled job keeps it for a
retry. Each run writes into its own ``.run-<attempt>`` folder and moves its outputs into the
video's folder only if the job is still its own, so a cancelled run that has not stopped yet
never deletes or replaces the files of the run that retried it. Deleting the video removes the
whole folder."""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import db
from db import jobs, videos
from db.observations import add_video_observations
from portal.jobs.reporting import JobInputError, Reporter
from portal.jobs.settings import JobSettings
from realtime import VideoConfig, analyse_video, iter_timeline_csv

log = logging.getLogger(__name__)


def video_config(video: videos.Video, settings: JobSettings) -> VideoConfig:
    return VideoConfig(preset=video.preset or "auto", sample_fps=video.sample_fps, limits=settings.video_limits,
                       model_path=settings.model_path)


def run_video_job(job: jobs.Job, settings: JobSettings, reporter: Reporter) -> dict[str, Any]:
    with db.connection():
        video = videos.get_video(job.params.get("video_id"))
    if video is None:
        raise JobInputError("the video of this job was deleted")
    data_dir = Path(settings.data_dir)
    original = data_dir / video.original_path
    if not original.is_file():
        raise JobInputError("the uploaded video file is missing (it is removed after a successful analysis)")
    out = data_dir / video.folder
    work = out / f".run-{job.attempts}"  # this run's own folder: a cancelled run cleans up only its files
    try:
        result = analyse_video(original, work, video_config(video, settings), progress=reporter.progress,
                               should_stop=reporter.should_stop)
        reporter.confirm()  # cancelled (and retried) meanwhile: the new run's outputs stay
        result.files = _publish(result.files, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    doc_tracks = result.tracks
    dominant = _dominant(doc_tracks)
    rel = {k: str(p.relative_to(data_dir)) for k, p in result.files.items()}
    with db.connection():
        videos.set_video_result(
            video.id, annotated_path=rel.get("video", ""), result_path=rel["json"], csv_path=rel["csv"],
            duration_s=round(max(result.info.duration_s, result.frames / result.info.fps), 3),
            fps=round(result.info.fps, 3), width=result.info.width, height=result.info.height,
            frames=result.frames, frames_analysed=result.frames_analysed, tracks=len(doc_tracks),
            dominant_emotion=dominant)
        if video.exhibit_id is not None:  # its tracked faces feed the exhibit's analytics (read back
            add_video_observations(video, iter_timeline_csv(result.files["csv"]))  # one frame at a time)
    original.unlink(missing_ok=True)
    log.info("video %d analysed: %d frames, %d tracks, %.1f frames/s", video.id, result.frames, len(doc_tracks),
             result.fps_processed)
    return {"video_id": video.id, "tracks": len(doc_tracks), "frames": result.frames,
            "fps_processed": round(result.fps_processed, 2)}


def _publish(files: dict[str, Path], out: Path) -> dict[str, Path]:
    """Move a finished run's files into the video's folder (replacing an earlier run's)."""
    for stale in ("timeline.svg", "timeline.png"):  # charts drawn from an earlier run
        (out / stale).unlink(missing_ok=True)
    published = {}
    for key, path in files.items():
        published[key] = out / path.name
        os.replace(path, published[key])
    return published


def _dominant(tracks: list[dict[str, Any]]) -> str | None:
    """The most frequent per-frame emotion over all tracks, uncertain frames apart (the tracks' own
    definition); results written before ``emotion_frames`` fall back to each track's dominant emotion."""
    totals: dict[str, float] = {}
    for t in tracks:
        for emotion, n in (t.get("emotion_frames") or {t["dominant_emotion"]: t["frames"]}).items():
            totals[emotion] = totals.get(emotion, 0) + n
    return max(totals, key=totals.get) if totals else None
