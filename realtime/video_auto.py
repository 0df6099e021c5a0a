"""Which detector a video needs, chosen by measurement (the ``auto`` preset).

The first ``PROBE_S`` seconds are probed with the room detector (the full-range model on a 3x3
grid finds faces of every size, 12 px and up): ``PROBE_FRAMES`` frames spread over them, every
tile. When the median face found is smaller than ``SMALL_FACE`` of the frame's short side, the
video is a room camera's (``room`` preset); otherwise, or when no face is found, the standard
detector. Measured (docs/video.md, "Auto"): the standard detector (short-range model on tiles)
finds faces from 11% of the frame height up and none at 9.6% or below, at 270 and 480 px.
"""
from __future__ import annotations

import contextlib
import logging
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from .detect import get_detector
from .video_io import VideoLimits, read_frames

log = logging.getLogger(__name__)

AUTO = "auto"
PROBE_S = 3.0  # seconds of the video looked at
PROBE_FRAMES = 6  # frames probed, one every PROBE_S / PROBE_FRAMES seconds
SMALL_FACE = 0.12  # median face height / frame short side below which the room detector is needed
PROBE_DETECTOR = "full-tiled3@0.5"  # the room preset's detector: finds small and large faces


@dataclass(frozen=True)
class DetectorChoice:
    """The preset used, the one asked for, and why."""
    preset: str
    requested: str
    reason: str
    faces: int = 0  # faces found by the probe
    frames_probed: int = 0
    median_face_px: float | None = None  # median face height found by the probe
    median_face_share: float | None = None  # ... over the frame's short side

    def to_dict(self) -> dict:
        return asdict(self)


def explicit(preset: str, requested: str, detector: str | None = None) -> DetectorChoice:
    """A preset (or detector) the user chose: no probe."""
    if detector:
        return DetectorChoice(preset, requested, f"detector {detector} chosen explicitly (no probe)")
    return DetectorChoice(preset, requested, f"preset '{preset}' chosen explicitly (no probe)")


def probe_face_heights(path: str | Path, limits: VideoLimits) -> tuple[list[float], int, int]:
    """Face heights found in the first PROBE_S seconds, the number of frames probed, the short side."""
    detector = get_detector(PROBE_DETECTOR)
    step, next_t = PROBE_S / PROBE_FRAMES, 0.0
    heights: list[float] = []
    probed, short_side = 0, 0
    with contextlib.closing(read_frames(path, limits)) as frames:  # closes the file when we stop early
        for _, t, rgb in frames:
            if t >= PROBE_S or probed >= PROBE_FRAMES:
                break
            if t + 1e-6 < next_t:
                continue
            next_t += step
            probed += 1
            short_side = min(rgb.shape[:2])
            heights += [d.box[3] for d in detector.detect(rgb)]
    return heights, probed, short_side


def choose(path: str | Path, limits: VideoLimits) -> DetectorChoice:
    """The ``auto`` preset: probe the first seconds, pick ``room`` when the median face is small."""
    heights, probed, short_side = probe_face_heights(path, limits)
    if not heights:
        return DetectorChoice("default", AUTO, f"no face in the first {PROBE_S:g} s ({probed} frames probed): "
                              "standard detector", 0, probed)
    median = statistics.median(heights)
    share = median / short_side
    small = share < SMALL_FACE
    reason = (f"median face {median:.0f} px high = {100 * share:.1f}% of the frame's {short_side} px "
              f"({len(heights)} faces in {probed} frames of the first {PROBE_S:g} s), "
              f"{'below' if small else 'at least'} {100 * SMALL_FACE:g}%: "
              f"{'room camera detector (small, distant faces)' if small else 'standard detector'}")
    choice = DetectorChoice("room" if small else "default", AUTO, reason, len(heights), probed,
                            round(median, 1), round(share, 4))
    log.info("video %s: auto detector: %s", Path(path).name, reason)
    return choice
