"""Speed and memory benchmark of the real-time core; prints markdown for docs/realtime.md.

    python -m realtime bench [--model onnx/emotion.onnx] [--calls 1000]

Numbers depend on the machine and on what else runs on it; say which when quoting them.
"""
from __future__ import annotations

import gc
import logging
import os
import platform
import time

import cv2
import numpy as np

from ..classifier import load_classifier
from ..config import DEFAULT_DETECTOR, PipelineConfig
from ..pipeline import Analyzer
from .scenes import real_photo, shrunk_group
from ..stream import Stream

log = logging.getLogger(__name__)


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _median_ms(fn, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(np.median(times)), float(np.percentile(times, 90))


def three_face_photo() -> np.ndarray:
    """500x375 photo with three real faces (50-70 px wide)."""
    return shrunk_group([50, 60, 70], seed=0).rgb


def stream_frames(n: int = 60, size: tuple[int, int] = (480, 640)) -> list[np.ndarray]:
    """A 640x480 'webcam' sequence: the astronaut's head and shoulders drifting across the frame."""
    H, W = size
    img = real_photo("astronaut")
    person = cv2.resize(img[20:400, 90:360], (216, 304), interpolation=cv2.INTER_AREA)
    bg = cv2.resize(real_photo("coffee"), (W, H), interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(n):
        f = bg.copy()
        x = 120 + int(80 * np.sin(i / 10.0))
        y = 80 + int(20 * np.cos(i / 7.0))
        f[y:y + person.shape[0], x:x + person.shape[1]] = person
        frames.append(f)
    return frames


def run(model_path: str | None = None, detectors: list[str] | None = None, calls: int = 1000,
        repeats: int = 50) -> str:
    """Markdown report: classifier speed, pipeline speed per detector, memory over ``calls`` calls."""
    clf = load_classifier(model_path)
    photo, frames = three_face_photo(), stream_frames()
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"providers {clf.session.get_providers()}; model {clf.name} {clf.version}.",
        "",
    ]
    lines += _classifier_table(clf, repeats)
    lines += _pipeline_table(model_path, detectors or [DEFAULT_DETECTOR, "full", "short"], photo, frames, repeats)
    lines += _memory_line(model_path, photo, calls)
    return "\n".join(lines)


def _classifier_table(clf, repeats: int) -> list[str]:
    lines = [
        "**Classifier** (crops already at input size; TTA = original + mirror in one extra run):",
        "",
        "| faces per call | ms per call, no TTA | ms per face, no TTA | ms per call, TTA | ms per face, TTA |",
        "|---|---|---|---|---|",
    ]
    h, w = clf.input_size
    rng = np.random.default_rng(0)
    for n in (1, 3, 10):
        faces = rng.integers(0, 256, (n, h, w), dtype=np.uint8)
        clf.predict(faces)
        a, _ = _median_ms(lambda: clf.predict(faces, tta=False), repeats * 2)
        b, _ = _median_ms(lambda: clf.predict(faces, tta=True), repeats * 2)
        lines.append(f"| {n} | {a:.2f} | {a / n:.2f} | {b:.2f} | {b / n:.2f} |")
    return lines


def _pipeline_table(model_path, detectors: list[str], photo, frames, repeats: int) -> list[str]:
    lines = [
        "",
        "**Pipeline** (decode of an in-memory array, detect, crop, classify with the metadata's TTA; "
        "draw measured separately; medians over "
        f"{repeats} runs):",
        "",
        "| detector | 500x375 photo, 3 faces: found | detect ms | classify ms | total ms (p90) | + draw ms "
        "| 640x480 stream, 1 face: found | ms/frame (p90) | frames/s | with drawing: frames/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in detectors:
        an = Analyzer(PipelineConfig(detector=name, model_path=model_path))
        an.analyze(photo)
        res = [an.analyze(photo) for _ in range(repeats)]
        tot = [sum(r.timing_ms.values()) for r in res]
        det = np.median([r.timing_ms["detect"] for r in res])
        cls = np.median([r.timing_ms["classify"] for r in res])
        draw_ms, _ = _median_ms(lambda: res[0].draw(), 10)
        found, times, times_d = _stream_times(an, frames)
        ms = float(np.median(times))
        lines.append(
            f"| {name} | {len(res[0].faces)}/3 | {det:.1f} | {cls:.1f} | {np.median(tot):.1f} ({np.percentile(tot, 90):.1f}) "
            f"| {draw_ms:.1f} | {np.mean(np.array(found) == 1) * 100:.0f}% of frames | {ms:.1f} ({np.percentile(times, 90):.1f}) "
            f"| {1000.0 / ms:.0f} | {1000.0 / float(np.median(times_d)):.0f} |"
        )
    return lines


def _stream_times(an: Analyzer, frames) -> tuple[list[int], list[float], list[float]]:
    """Faces found per frame, ms per frame, and ms per frame with drawing, through a Stream."""
    stream = Stream(analyzer=an)
    stream.process(frames[0])
    found, times = [], []
    for f in frames:
        t0 = time.perf_counter()
        found.append(len(stream.process(f).faces))
        times.append((time.perf_counter() - t0) * 1000.0)
    stream.reset()
    times_d = []
    for f in frames:
        t0 = time.perf_counter()
        stream.process(f).draw()
        times_d.append((time.perf_counter() - t0) * 1000.0)
    return found, times, times_d


def _memory_line(model_path, photo, calls: int) -> list[str]:
    an = Analyzer(PipelineConfig(model_path=model_path))
    for _ in range(50):
        an.analyze(photo).draw()
    gc.collect()
    before = _rss_mb()
    marks = []
    for i in range(calls):
        an.analyze(photo).draw()
        if (i + 1) % max(1, calls // 4) == 0:
            gc.collect()
            marks.append(_rss_mb())
    return [
        "",
        f"**Memory** ({DEFAULT_DETECTOR}, analyze + draw of the 3-face photo): RSS {before:.1f} MB after 50 warm-up calls, "
        f"then {' / '.join(f'{m:.1f}' for m in marks)} MB after each quarter of {calls} calls "
        f"(growth {marks[-1] - before:+.1f} MB).",
    ]
