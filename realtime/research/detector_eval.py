"""Detector choice by measurement: recall, false positives and speed on the labelled scene set."""
from __future__ import annotations

import logging
import time

import numpy as np

from ..config import detector_spec
from ..boxes import greedy_match
from ..detect import MediaPipeDetector
from .scenes import Scene, labelled_set

log = logging.getLogger(__name__)

BUCKETS = ((0, 32, "<32"), (32, 48, "32-47"), (48, 80, "48-79"), (80, 10_000, ">=80"))


def match(gt: list[tuple], pred: list[tuple], thr: float = 0.5) -> tuple[int, int]:
    """Greedy IoU matching -> (true positives, false positives)."""
    matched = greedy_match(gt, pred, thr)
    return len(matched), len(pred) - len(matched)


def evaluate(name: str, scenes: list[Scene], repeats: int = 1) -> dict:
    det = MediaPipeDetector(detector_spec(name))
    det.detect(scenes[0].rgb)  # warm-up
    n_gt = tp = fp = fp_noface = noface_images_with_fp = 0
    kind_hits = {"real": [0, 0], "fer": [0, 0]}
    size_hits = {b[2]: [0, 0] for b in BUCKETS}
    times = []
    for sc in scenes:
        for _ in range(repeats):
            t0 = time.perf_counter()
            found = det.detect(sc.rgb)
            times.append((time.perf_counter() - t0) * 1000.0)
        boxes = [d.box for d in found]
        t, f = match(sc.faces, boxes)
        n_gt += len(sc.faces)
        tp += t
        kind = "fer" if sc.kind == "fer" else "real"
        kind_hits[kind][0] += t
        kind_hits[kind][1] += len(sc.faces)
        fp += f
        if not sc.faces:
            fp_noface += f
            noface_images_with_fp += bool(f)
        for g in sc.faces:
            hit = any(iou(g, b) >= 0.5 for b in boxes)
            for lo, hi, label in BUCKETS:
                if lo <= g[2] < hi:
                    size_hits[label][0] += hit
                    size_hits[label][1] += 1
    # a 640x480 webcam-like sequence with one 80 px face moving across the frame
    from .bench import stream_frames

    stream_hits = sum(len(det.detect(f)) == 1 for f in stream_frames(30))
    det.close()
    return {
        "stream_hits": stream_hits,
        "detector": name, "faces": n_gt, "recall": tp / max(n_gt, 1), "fp": fp, "fp_noface": fp_noface,
        "noface_images": sum(1 for s in scenes if not s.faces), "noface_images_with_fp": noface_images_with_fp,
        "by_size": size_hits, "by_kind": kind_hits, "ms_median": float(np.median(times)), "ms_p90": float(np.percentile(times, 90)),
    }


def run(names: list[str] | None = None, n_fer: int = 200) -> str:
    """Markdown table comparing detectors/thresholds on the labelled set."""
    fer = None
    try:
        from .ferdata import load_fer_faces

        fer, _ = load_fer_faces("PublicTest", limit=n_fer)
    except FileNotFoundError as exc:
        log.warning("no FER composites: %s", exc)
    scenes = labelled_set(fer)
    names = names or ["full@0.3", "full@0.5", "full@0.7", "short@0.3", "short@0.5", "short@0.7"]
    n_faces = sum(len(s.faces) for s in scenes)
    n_noface = sum(1 for s in scenes if not s.faces)
    lines = [
        f"{len(scenes)} images ({len(scenes) - n_noface} with {n_faces} faces, {n_noface} without); "
        "a face counts as found when a box has IoU >= 0.5 with it.",
        "",
        "| detector@threshold | recall | real photos | FER composites | by face width " + " / ".join(b[2] for b in BUCKETS)
        + " px | false positives | no-face images with a box | ms/image median (p90) | webcam sequence: frames with exactly the face |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        r = evaluate(name, scenes)
        sizes = " / ".join(f"{h}/{n}" for h, n in r["by_size"].values())
        lines.append(
            f"| {name} | {r['recall']:.3f} | {r['by_kind']['real'][0]}/{r['by_kind']['real'][1]} | "
            f"{r['by_kind']['fer'][0]}/{r['by_kind']['fer'][1]} | {sizes} | {r['fp']} | "
            f"{r['noface_images_with_fp']}/{r['noface_images']} | {r['ms_median']:.1f} ({r['ms_p90']:.1f}) | {r['stream_hits']}/30 |"
        )
    return "\n".join(lines)
