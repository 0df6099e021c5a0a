"""Per-stream state: faces tracked across frames by box overlap, probabilities smoothed (EMA)."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace

import numpy as np

from .config import PipelineConfig, StreamConfig
from .boxes import greedy_match
from .io import ImageSource
from .pipeline import Analysis, Analyzer, Face, get_analyzer
from .uncertainty import is_uncertain

log = logging.getLogger(__name__)


@dataclass
class Track:
    id: int
    box: tuple[float, float, float, float]
    probs: np.ndarray
    missed: int = 0
    hits: int = 1
    tile: int = -1  # the detector tile that last found it (-1: the whole image)


class Stream:
    """One per video stream (webcam session, camera). ``process(frame)`` analyses a frame and
    returns its Analysis with each face's ``track_id`` set, its probabilities smoothed over the
    track's history (``raw_probabilities`` keeps this frame's own), and emotion/confidence/uncertain
    from the smoothed values. Thread-safe; frames of one stream are processed one at a time."""

    def __init__(self, config: PipelineConfig | None = None, stream_config: StreamConfig | None = None,
                 analyzer: Analyzer | None = None):
        self.analyzer = analyzer or get_analyzer(config)
        self.config = stream_config or StreamConfig()
        if not 0.0 < self.config.alpha <= 1.0 or not 0.0 < self.config.box_alpha <= 1.0:
            raise ValueError("alpha and box_alpha must be in (0, 1]")
        if self.config.closeup_every < 0:
            raise ValueError("closeup_every must be >= 0")
        if self.config.tile_every < 1:
            raise ValueError("tile_every must be >= 1")
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget all tracks (new video, camera switched)."""
        with self._lock:
            self.tracks: list[Track] = []
            self._next_id = 1
            self.frames = 0
            self._faceless = 0  # consecutive frames without a face

    def _closeup_now(self) -> bool:
        """The close-up pass (run only if the detector finds nothing): always while a face is
        tracked (a face close to the camera is then found in every frame), else every n-th
        faceless frame (an empty room costs little)."""
        every = self.config.closeup_every
        return every > 0 and (bool(self.tracks) or self._faceless % every == 0)

    def _tiles_now(self) -> set[int] | None:
        """The tiles a tiled detector runs on this frame (None: all): every ``tile_every``-th tile in
        turn (each is seen at least every ``tile_every`` frames: new small faces are found within
        that many frames) plus the tiles of the faces being tracked (found again every frame)."""
        every, n = self.config.tile_every, getattr(self.analyzer.detector, "n_tiles", 0)
        if every <= 1 or not n:
            return None
        turn = {k for k in range(n) if k % every == self.frames % every}
        return turn | {t.tile for t in self.tracks if t.tile >= 0}

    def process(self, frame: ImageSource) -> Analysis:
        analysis = self.analyzer.analyze(frame, closeup=self._closeup_now(), tiles=self._tiles_now())
        with self._lock:
            self._faceless = 0 if analysis.faces else self._faceless + 1
            analysis.faces = self._update(analysis.faces, analysis.classes)
            self.frames += 1
        return analysis

    def _update(self, faces: list[Face], classes: list[str]) -> list[Face]:
        cfg = self.config
        by_track = greedy_match([t.box for t in self.tracks], [f.box for f in faces], cfg.iou_threshold)
        assigned = {fi: ti for ti, fi in by_track.items()}  # face index -> track index
        used_tracks = set(by_track)
        out: list[Face] = []
        for fi, face in enumerate(faces):
            raw = np.array([face.probabilities[c] for c in classes], dtype=np.float64)
            if fi in assigned:
                tr = self.tracks[assigned[fi]]
                tr.probs = cfg.alpha * raw + (1.0 - cfg.alpha) * tr.probs
                b = cfg.box_alpha
                tr.box = tuple(b * n + (1.0 - b) * o for n, o in zip(face.box, tr.box))
                tr.missed = 0
                tr.hits += 1
                tr.tile = face.tile
            else:
                tr = Track(self._next_id, tuple(float(v) for v in face.box), raw, tile=face.tile)
                self._next_id += 1
                self.tracks.append(tr)
                used_tracks.add(len(self.tracks) - 1)
            k = int(np.argmax(tr.probs))
            smoothed = {c: float(p) for c, p in zip(classes, tr.probs)}
            out.append(replace(
                face,
                box=tuple(int(round(v)) for v in tr.box),
                emotion=classes[k],
                confidence=float(tr.probs[k]),
                probabilities=smoothed,
                raw_probabilities=dict(face.probabilities),
                track_id=tr.id,
                uncertain=is_uncertain(smoothed, self.analyzer.uncertainty),
            ))
        for ti, tr in enumerate(self.tracks):
            if ti not in used_tracks:
                tr.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= cfg.max_missed]
        return out

