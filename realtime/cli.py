"""Command line: ``python -m realtime predict|video|bench|calibrate|detectors``."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .config import DEFAULT_DETECTOR, DETECTORS, PipelineConfig
from .io import DEFAULT_MAX_PIXELS, ImageError
from .logsetup import configure_logging

log = logging.getLogger(__name__)


def _predict(args: argparse.Namespace) -> int:
    from .draw import encode
    from .pipeline import Analyzer

    config = PipelineConfig(detector=args.detector, model_path=args.model, max_pixels=args.max_pixels,
                            tta=None if args.tta == "auto" else args.tta == "on", upright=not args.no_upright)
    analyzer = Analyzer(config)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for src in args.images:
        stem = Path(src).stem
        try:
            result = analyzer.analyze(src)
        except ImageError as exc:
            print(f"{src}: error: {exc}", file=sys.stderr)
            failures += 1
            continue
        image_path = out / f"{stem}.annotated.{args.format}"
        image_path.write_bytes(encode(result.draw(), "." + args.format))
        doc = result.to_dict()
        if args.json:
            (out / f"{stem}.json").write_text(json.dumps(doc, indent=2) + "\n")
        faces = ", ".join(f.label for f in result.faces) or doc.get("message", "")
        print(f"{src}: {len(result.faces)} face(s): {faces} -> {image_path}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m realtime", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("predict", help="annotate images (and write JSON results)")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--json", action="store_true", help="also write DIR/<stem>.json")
    p.add_argument("--detector", default=DEFAULT_DETECTOR,
                   help=f"one of {', '.join(DETECTORS)}, optionally NAME@SCORE (default {DEFAULT_DETECTOR})")
    p.add_argument("--model", default=None, help="ONNX model (metadata JSON beside it); default onnx/emotion.onnx")
    p.add_argument("--tta", choices=["auto", "on", "off"], default="auto", help="mirror TTA (auto: as the metadata says)")
    p.add_argument("--format", choices=["png", "jpg"], default="png")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS)
    p.add_argument("--no-upright", action="store_true",
                   help="classify axis-aligned crops (default: each crop turned so the eye line is level)")

    from .video_cli import add_video_parser

    add_video_parser(sub)

    b = sub.add_parser("bench", help="speed and memory benchmark (markdown)")
    b.add_argument("--model", default=None)
    b.add_argument("--calls", type=int, default=1000)
    b.add_argument("--repeats", type=int, default=50)
    b.add_argument("--detector", action="append", help="detector(s) to time (default: default, full, short)")

    c = sub.add_parser("calibrate", help="measure the crop margin of each detector on FER2013 faces")
    c.add_argument("-n", type=int, default=300)
    c.add_argument("--upscale", type=int, default=4)

    d = sub.add_parser("detectors", help="recall / false positives / speed of each detector on the labelled set")
    d.add_argument("names", nargs="*", help="detector names, e.g. full@0.7 (default: all at 0.5 and 0.7)")

    args = parser.parse_args(argv)
    configure_logging(None, "DEBUG" if args.verbose else "WARNING")
    try:
        if args.cmd == "predict":
            return _predict(args)
        if args.cmd == "video":
            from .video_cli import run_video

            return run_video(args)
        if args.cmd == "bench":
            from .research.bench import run

            print(run(args.model, args.detector, calls=args.calls, repeats=args.repeats))
        elif args.cmd == "calibrate":
            from .research.calibrate import run

            print(run(args.n, upscale=args.upscale))
        elif args.cmd == "detectors":
            from .research.detector_eval import run

            names = args.names or [f"{n}@{t:g}" for n, spec in DETECTORS.items()
                                   for t in sorted({0.5, 0.7, spec.min_score})]
            print(run(names))
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
