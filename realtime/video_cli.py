"""``python -m realtime video IN.mp4 --out DIR [--preset room] [--sample-fps 5]``."""
from __future__ import annotations

import argparse
import logging
import sys

from .video import PRESET_CHOICES, PRESETS, VideoCancelled, VideoConfig, analyse_video
from .video_io import VideoError, VideoLimits

log = logging.getLogger(__name__)


def add_video_parser(sub: "argparse._SubParsersAction") -> None:
    v = sub.add_parser("video", help="analyse a video: result.json, timeline.csv, annotated.mp4")
    v.add_argument("video", metavar="VIDEO")
    v.add_argument("--out", required=True, help="output directory")
    v.add_argument("--preset", choices=list(PRESET_CHOICES), default="auto",
                   help="detector for the footage: auto (measured on the first seconds), "
                        + ", ".join(f"{k}={d}" for k, d in PRESETS.items()))
    v.add_argument("--detector", default=None, help="detector name (overrides --preset), e.g. full@0.6")
    v.add_argument("--model", default=None)
    v.add_argument("--sample-fps", type=float, default=None, help="analyse this many frames per second (default: all)")
    v.add_argument("--no-video", action="store_true", help="skip the annotated video")
    v.add_argument("--no-upright", action="store_true", help="classify axis-aligned crops (no eye-line correction)")
    v.add_argument("--max-duration", type=float, default=VideoLimits.max_duration_s, help="seconds")
    v.add_argument("--max-mb", type=float, default=VideoLimits.max_bytes / 1024 / 1024)


def run_video(args: argparse.Namespace) -> int:
    config = VideoConfig(preset=args.preset, detector=args.detector, model_path=args.model,
                         sample_fps=args.sample_fps, annotate=not args.no_video, upright=not args.no_upright,
                         limits=VideoLimits(max_bytes=int(args.max_mb * 1024 * 1024), max_duration_s=args.max_duration))
    try:
        result = analyse_video(args.video, args.out, config)
    except (VideoError, FileNotFoundError) as exc:
        print(f"{args.video}: error: {exc}", file=sys.stderr)
        return 1
    except VideoCancelled:  # pragma: no cover - the CLI never cancels
        return 1
    tracks = ", ".join(f"#{t['track_id']} {t['dominant_emotion']} {t['dwell_s']:.1f}s" for t in result.tracks) or "no face"
    print(f"{args.video}: {result.frames} frames ({result.frames_analysed} analysed) at "
          f"{result.fps_processed:.1f} frames/s; tracks: {tracks}")
    if result.choice is not None:
        print(f"  detector: {result.choice.preset} ({result.choice.reason})")
    for kind, path in result.files.items():
        print(f"  {kind}: {path}")
    return 0
