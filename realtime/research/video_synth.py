"""Synthetic videos with known faces, for the video tests and the benchmark (no downloads).

Real portraits shipped in installed packages (``scenes.REAL_FACES``: the astronaut, the
cameraman, Grace Hopper; head and shoulders) are scaled so their face box is ``face_px``
wide and pasted into each frame at a known place, moving along a straight line, visible
between two frames. The ground truth is the face box of every actor in every frame.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from .scenes import REAL_FACES, background, real_photo
from ..video_io import H264Writer

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Actor:
    portrait: str  # a key of scenes.REAL_FACES
    face_px: int  # face box width in the video
    start: tuple[float, float]  # face box top-left at frame `first`
    end: tuple[float, float]  # ... at frame `last` (moves linearly)
    first: int = 0
    last: int = 10**9  # inclusive

    def visible(self, i: int) -> bool:
        return self.first <= i <= self.last

    def face_box(self, i: int, n_frames: int) -> Box:
        span = max(1, min(self.last, n_frames - 1) - self.first)
        a = min(max((i - self.first) / span, 0.0), 1.0)
        x = self.start[0] + a * (self.end[0] - self.start[0])
        y = self.start[1] + a * (self.end[1] - self.start[1])
        return (x, y, float(self.face_px), float(self.face_px))


@lru_cache(maxsize=16)
def _portrait(name: str, face_px: int) -> tuple[np.ndarray, float, float]:
    """The head-and-shoulders crop scaled so the face is ``face_px`` wide, and the face's offset in it."""
    img = real_photo(name)
    fx, fy, fw, fh = REAL_FACES[name][0]
    x0, y0 = max(0, int(fx - 0.8 * fw)), max(0, int(fy - 0.6 * fh))
    x1, y1 = min(img.shape[1], int(fx + 1.8 * fw)), min(img.shape[0], int(fy + 1.9 * fh))
    s = face_px / fw
    part = cv2.resize(img[y0:y1, x0:x1], (max(1, int((x1 - x0) * s)), max(1, int((y1 - y0) * s))),
                      interpolation=cv2.INTER_AREA)
    return part, (fx - x0) * s, (fy - y0) * s


def _paste(frame: np.ndarray, part: np.ndarray, x: int, y: int) -> None:
    H, W = frame.shape[:2]
    ph, pw = part.shape[:2]
    fx0, fy0, fx1, fy1 = max(0, x), max(0, y), min(W, x + pw), min(H, y + ph)
    if fx1 > fx0 and fy1 > fy0:
        frame[fy0:fy1, fx0:fx1] = part[fy0 - y:fy1 - y, fx0 - x:fx1 - x]


@dataclass
class SynthVideo:
    size: tuple[int, int]  # width, height
    n_frames: int
    actors: list[Actor]
    fps: float = 30.0
    backdrop: str = "coffee"

    def truth(self, i: int) -> list[tuple[int, Box]]:
        """(actor index, face box) of every face visible in frame ``i``."""
        return [(k, a.face_box(i, self.n_frames)) for k, a in enumerate(self.actors) if a.visible(i)]

    def frames(self) -> Iterator[np.ndarray]:
        W, H = self.size
        bg = background(self.backdrop, (H, W))
        for i in range(self.n_frames):
            frame = bg.copy()
            for k, box in self.truth(i):
                part, ox, oy = _portrait(self.actors[k].portrait, self.actors[k].face_px)
                _paste(frame, part, int(round(box[0] - ox)), int(round(box[1] - oy)))
            yield frame

    def write(self, path: str | Path, crf: int = 18) -> Path:
        path = Path(path)
        with H264Writer(path, *self.size, fps=self.fps, crf=crf) as writer:
            for frame in self.frames():
                writer.write(frame)
        return path


def one_face(n_frames: int = 60, first: int = 10, last: int = 49) -> SynthVideo:
    """640x480, the astronaut (80 px face) walking right between frames ``first`` and ``last``."""
    return SynthVideo((640, 480), n_frames, [Actor("astronaut", 80, (150, 140), (330, 170), first, last)])


def two_faces(n_frames: int = 45) -> SynthVideo:
    """640x480, two people crossing the frame in opposite directions on separate rows."""
    return SynthVideo((640, 480), n_frames, [
        Actor("astronaut", 70, (90, 60), (420, 80)),
        Actor("grace_hopper", 70, (470, 290), (140, 270)),
    ])


def room_camera(n_frames: int = 60) -> SynthVideo:
    """480x270 wide shot: four people with faces 14-22 px high, two of them drifting slowly."""
    return SynthVideo((480, 270), n_frames, [
        Actor("astronaut", 22, (60, 60), (60, 60)),
        Actor("camera", 18, (190, 120), (230, 120)),
        Actor("grace_hopper", 16, (320, 50), (320, 70)),
        Actor("astronaut", 14, (400, 160), (370, 160)),
    ], backdrop="grass")
