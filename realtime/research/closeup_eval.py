"""Measure the close-up pass: find rates on tight close-ups by size, before/after, and its cost.

``python -m realtime.research.closeup_eval [--detector NAME] [-n FER_FACES] [--json PATH]`` prints a
markdown table (docs/realtime.md, "Close-ups"). A face counts as found when a box has IoU >= 0.5
with it; "before" is the configured detector alone, "after" adds the close-up pass (what the
pipeline does for photos). The no-face photos of the scene set check that the pass adds no boxes.
"""
from __future__ import annotations

import argparse
import json
import logging
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

import cv2

from ..closeup import detect_closeup
from .closeup_set import closeup_set, noface_images, size_of
from ..config import DEFAULT_DETECTOR, PipelineConfig, StreamConfig
from ..boxes import iou
from ..pipeline import Analyzer
from .scenes import NO_FACE, REAL_FACES, Scene, real_photo
from ..stream import Stream

log = logging.getLogger(__name__)


def _timed_find(analyzer: Analyzer, rgb: np.ndarray, closeup: bool) -> tuple[list, float]:
    t0 = time.perf_counter()
    dets, _ = analyzer.find_faces(rgb, closeup=closeup)
    return dets, (time.perf_counter() - t0) * 1000.0


def _found(dets: list, scene: Scene) -> bool:
    return any(iou(d.box, scene.faces[0]) >= 0.5 for d in dets)


def measure(analyzer: Analyzer, scenes: list[Scene], noface: list[np.ndarray]) -> dict:
    """Find rates by kind and size before/after; ms of the first pass and of the whole search."""
    rows: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])  # total, before, after
    first_ms, rescue_ms = [], []
    for scene in scenes:
        dets, ms = _timed_find(analyzer, scene.rgb, closeup=False)
        row = rows[(scene.kind, size_of(scene))]
        row[0] += 1
        if _found(dets, scene):
            row[1] += 1
            row[2] += 1
            first_ms.append(ms)
            continue
        dets, ms = _timed_find(analyzer, scene.rgb, closeup=True)
        row[2] += _found(dets, scene)
        rescue_ms.append(ms)
    hit_ms = [[], []]  # where the first pass finds the face: the pass off / on, the same photos interleaved
    for scene in scenes[:: max(1, len(scenes) // 100)]:
        for on in (False, True):
            dets, ms = _timed_find(analyzer, scene.rgb, closeup=on)
            if dets:
                hit_ms[on].append(ms)
    nf = [(_timed_find(analyzer, img, closeup=False), _timed_find(analyzer, img, closeup=True)) for img in noface]
    med = lambda v: round(float(np.median(v)), 1) if v else None  # noqa: E731
    total = sum(r[0] for r in rows.values())
    return {
        "detector": analyzer.spec.name, "images": total,
        "found_before": sum(r[1] for r in rows.values()), "found_after": sum(r[2] for r in rows.values()),
        "by_size": [{"kind": k, "size": s, "images": r[0], "before": r[1], "after": r[2]}
                    for (k, s), r in sorted(rows.items())],
        "ms_first_pass_found_median": med(first_ms), "ms_first_finds_closeup_off_median": med(hit_ms[0]),
        "ms_first_finds_closeup_on_median": med(hit_ms[1]),
        "ms_missed_then_closeup_median": med(rescue_ms),
        "noface_photos": len(noface), "noface_boxes_before": sum(bool(a[0]) for a, _ in nf),
        "noface_boxes_after": sum(bool(b[0]) for _, b in nf),
        "noface_ms_before_median": med([a[1] for a, _ in nf]), "noface_ms_after_median": med([b[1] for _, b in nf]),
    }


def measure_cost(analyzer: Analyzer, repeats: int = 15) -> list[dict]:
    """Median ms of the detector and of the close-up pass (both passes: no face) on no-face images
    of several sizes, interleaved so that load on the machine hits both alike."""
    sizes = [(96, 96), (500, 375), (640, 480), (2000, 1500)]
    out = []
    for w, h in sizes:
        img = cv2.resize(real_photo("coffee"), (w, h), interpolation=cv2.INTER_AREA)
        det, cu = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            analyzer.detector.detect(img)
            t1 = time.perf_counter()
            detect_closeup(img, analyzer.spec)
            det.append((t1 - t0) * 1000.0)
            cu.append((time.perf_counter() - t1) * 1000.0)
        out.append({"image": f"{w}x{h}", "detector_ms": round(float(np.median(det)), 1),
                    "closeup_pass_ms": round(float(np.median(cu)), 1)})
    return out


def webcam_closeups(size: tuple[int, int] = (480, 640)) -> list[Scene]:
    """640x480 frames of the real faces close to the camera: face box 50-90 % of the frame height."""
    H, W = size
    out = []
    for name, faces in REAL_FACES.items():
        img = real_photo(name)
        x, y, w, h = faces[0]
        for f in (0.5, 0.6, 0.7, 0.8, 0.9):
            k = f * H / h
            m = np.float32([[k, 0, W / 2 - (x + w / 2) * k], [0, k, H / 2 - (y + h / 2) * k]])
            rgb = cv2.warpAffine(img, m, (W, H), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
            out.append(Scene(f"webcam:{name}:{f:g}", rgb, [(W / 2 - w * k / 2, H / 2 - h * k / 2, w * k, h * k)]))
    return out


def measure_stream(analyzer: Analyzer, noface: list[np.ndarray], rounds: int = 5,
                   modes: tuple[int, ...] = (0, 3, 1)) -> list[dict]:
    """Per ``StreamConfig.closeup_every``: close-up webcam frames found (one frame each, fresh
    stream) and the mean ms per frame of a faceless sequence (the modes interleaved)."""
    frames = [cv2.resize(img, (640, 480), interpolation=cv2.INTER_AREA) for img in noface]
    streams = {m: Stream(analyzer=analyzer, stream_config=StreamConfig(closeup_every=m)) for m in modes}
    times: dict[int, list[float]] = {m: [] for m in modes}
    for _ in range(rounds):
        for m in modes:
            t0 = time.perf_counter()
            for f in frames:
                streams[m].process(f)
            times[m].append((time.perf_counter() - t0) * 1000.0 / len(frames))
    out = []
    for m in modes:
        found = 0
        for scene in webcam_closeups():
            streams[m].reset()
            found += _found(streams[m].process(scene.rgb).faces, scene)
        out.append({"closeup_every": m, "webcam_closeups": len(webcam_closeups()), "found": found,
                    "faceless_ms_per_frame_mean": round(float(np.mean(times[m][1:])), 1)})
    return out


def to_markdown(res: dict) -> str:
    n, b, a = res["images"], res["found_before"], res["found_after"]
    lines = [f"{n} close-ups, detector `{res['detector']}`: found {b}/{n} ({100 * b / n:.1f} %) by the detector "
             f"alone, {a}/{n} ({100 * a / n:.1f} %) with the close-up pass.", "",
             "| close-ups | size px | images | found before | found after |", "|---|---|---|---|---|"]
    lines += [f"| {r['kind']} | {r['size']} | {r['images']} | {r['before']} | {r['after']} |" for r in res["by_size"]]
    lines += ["", f"Time (median ms): where the detector finds a face, {res['ms_first_finds_closeup_off_median']} "
              f"with the pass switched off and {res['ms_first_finds_closeup_on_median']} switched on (it does not run); "
              f"a miss followed by the close-up pass {res['ms_missed_then_closeup_median']}. "
              f"No-face images ({res['noface_photos']}: the 17 photos and 8 crops of each): "
              f"{res['noface_ms_before_median']} ms -> "
              f"{res['noface_ms_after_median']} ms, images with a box {res['noface_boxes_before']} -> "
              f"{res['noface_boxes_after']}."]
    if res.get("cost"):
        lines += ["", f"Cost on a no-face image (median ms; the pass runs in full): "
                  + "; ".join(f"{c['image']}: detector {c['detector_ms']}, close-up pass +{c['closeup_pass_ms']}"
                              for c in res["cost"]) + "."]
    if res.get("stream"):
        lines += ["", f"Streams (detector `{res['stream_detector']}`, 640x480):", "",
                  "| closeup_every | close-up frames found | faceless frames: ms per frame (mean) |", "|---|---|---|"]
        lines += [f"| {r['closeup_every']} | {r['found']}/{r['webcam_closeups']} | {r['faceless_ms_per_frame_mean']} |"
                  for r in res["stream"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m realtime.research.closeup_eval", description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default=DEFAULT_DETECTOR)
    ap.add_argument("-n", type=int, default=80, help="FER2013 PublicTest faces (balanced; 0: real faces only)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--stream-detector", default="full", help="the live page's detector ('' to skip streams)")
    ap.add_argument("--json", default=None, help="also write the numbers here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    fer = None
    if args.n:
        from .ferdata import load_fer_faces

        fer = load_fer_faces("PublicTest", limit=args.n)[0]
    analyzer = Analyzer(PipelineConfig(detector=args.detector, model_path=args.model))
    noface = noface_images()
    res = measure(analyzer, closeup_set(fer), noface)
    res["cost"] = measure_cost(analyzer)
    if args.stream_detector:
        live = Analyzer(PipelineConfig(detector=args.stream_detector, model_path=args.model))
        res.update(stream_detector=live.spec.name, stream=measure_stream(live, [real_photo(n) for n in NO_FACE]))
    print(to_markdown(res))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
