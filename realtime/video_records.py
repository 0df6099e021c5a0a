"""What a video analysis produces, written as it goes: the JSON document (timeline streamed to
disk, never held in memory), the CSV (one row per face per analysed frame) and the per-track
summary (first/last seen, dwell time, dominant emotion, mean probabilities).

JSON document (``result.json``)::

    {"timeline": [{"t": 0.0, "frame": 0, "faces": [{"track_id": 1, "box": [x, y, w, h],
                   "emotion": "happy", "confidence": 0.8, "uncertain": false, "probabilities": {...}}]}, ...],
     "video": {"width", "height", "fps", "duration_s", "frames", "frames_analysed", "sample_fps", ...},
     "tracks": [{"track_id", "first_seen_s", "last_seen_s", "first_frame", "last_frame", "dwell_s",
                 "frames", "uncertain_frames", "dominant_emotion", "emotion_frames", "uncertain", "mean_probabilities"}],
     "model": {...}, "uncertainty": {"rule", "threshold"}, "detector": "...", "classes": [...], "timing": {...}}

A face is ``uncertain`` when the model's rule says so (realtime/uncertainty.py); the CSV has it as 1/0
after ``emotion``. A track counts its uncertain frames apart (``uncertain_frames``) and is itself
``uncertain`` when its mean probabilities are.
"""
from __future__ import annotations

import csv
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from .contract import UncertaintyRule
from .uncertainty import is_uncertain

log = logging.getLogger(__name__)

DIGITS = 4  # probabilities and times are rounded the same way in the JSON and the CSV


def face_entry(face: Any) -> dict[str, Any]:
    """One face of the timeline (a pipeline Face with its track id)."""
    return {
        "track_id": int(face.track_id),
        "box": [int(v) for v in face.box],
        "emotion": face.emotion,
        "confidence": round(float(face.confidence), DIGITS),
        "uncertain": bool(getattr(face, "uncertain", False)),
        "probabilities": {k: round(float(v), DIGITS) for k, v in face.probabilities.items()},
    }


#: the CSV's columns before the class probabilities (older files lack "uncertain")
CSV_FIELDS = ["t", "frame", "track_id", "x", "y", "w", "h", "emotion", "uncertain"]


def csv_header(classes: Sequence[str]) -> list[str]:
    return [*CSV_FIELDS, *classes]


def csv_rows(entry: dict[str, Any], classes: Sequence[str]) -> list[list[Any]]:
    return [[entry["t"], entry["frame"], f["track_id"], *f["box"], f["emotion"], int(bool(f.get("uncertain"))),
             *(f["probabilities"][c] for c in classes)] for f in entry["faces"]]


@dataclass
class TrackStats:
    track_id: int
    first_t: float
    first_frame: int
    last_t: float = 0.0
    last_frame: int = 0
    frames: int = 0
    uncertain_frames: int = 0
    prob_sum: np.ndarray = field(default=None, repr=False)
    counts: dict[str, int] = field(default_factory=dict)  # per-frame emotions, uncertain frames apart

    def add(self, t: float, frame: int, probs: np.ndarray, uncertain: bool = False, emotion: str = "") -> None:
        self.last_t, self.last_frame = t, frame
        self.frames += 1
        self.uncertain_frames += bool(uncertain)
        self.prob_sum = probs.copy() if self.prob_sum is None else self.prob_sum + probs
        if emotion and not uncertain:
            self.counts[emotion] = self.counts.get(emotion, 0) + 1

    def dominant(self, classes: Sequence[str], mean: np.ndarray) -> str:
        """The most frequent per-frame emotion over the frames that are not uncertain (what the timeline
        shows most); ties, or a track with only uncertain frames, go to the highest mean probability."""
        order = {c: float(p) for c, p in zip(classes, mean)}
        return max(order, key=lambda c: (self.counts.get(c, 0), order[c]))

    def to_dict(self, classes: Sequence[str], step_s: float, rule: UncertaintyRule | None = None) -> dict[str, Any]:
        mean = self.prob_sum / max(self.frames, 1)
        return {
            "track_id": self.track_id,
            "first_seen_s": round(self.first_t, 3), "last_seen_s": round(self.last_t, 3),
            "first_frame": self.first_frame, "last_frame": self.last_frame,
            "dwell_s": round(self.last_t - self.first_t + step_s, 3),
            "frames": self.frames,
            "uncertain_frames": self.uncertain_frames,
            "dominant_emotion": self.dominant(classes, mean),
            "emotion_frames": {c: self.counts[c] for c in classes if c in self.counts},
            "uncertain": is_uncertain(dict(zip(classes, mean)), rule),
            "mean_probabilities": {c: round(float(p), DIGITS) for c, p in zip(classes, mean)},
        }


class ResultWriter:
    """Streams timeline entries into ``result.json`` (via a ``.part`` file) and ``timeline.csv``;
    keeps only the per-track sums in memory. ``finish`` completes the JSON; ``abort`` removes both."""

    def __init__(self, out_dir: Path, classes: Sequence[str], uncertainty: UncertaintyRule | None = None):
        self.classes = list(classes)
        self.uncertainty = uncertainty  # the model's rule (None: the default), for the track summaries
        self.json_path = out_dir / "result.json"
        self.csv_path = out_dir / "timeline.csv"
        self._part = out_dir / "result.json.part"
        self._json = open(self._part, "w", encoding="utf-8")
        self._json.write('{"timeline": [')
        self._csv_fh = open(self.csv_path, "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._csv_fh)
        self._csv.writerow(csv_header(self.classes))
        self._first = True
        self.tracks: dict[int, TrackStats] = {}
        self.entries = 0

    def add(self, t: float, frame: int, faces: Sequence[Any]) -> dict[str, Any]:
        entry = {"t": round(float(t), DIGITS), "frame": int(frame), "faces": [face_entry(f) for f in faces]}
        self._json.write(("\n" if self._first else ",\n") + json.dumps(entry, separators=(",", ":")))
        self._first = False
        self._csv.writerows(csv_rows(entry, self.classes))
        for f in entry["faces"]:
            stats = self.tracks.get(f["track_id"])
            if stats is None:
                stats = self.tracks[f["track_id"]] = TrackStats(f["track_id"], entry["t"], frame)
            stats.add(entry["t"], frame, np.array([f["probabilities"][c] for c in self.classes]), f["uncertain"],
                      f["emotion"])
        self.entries += 1
        return entry

    def track_summaries(self, step_s: float) -> list[dict[str, Any]]:
        return [s.to_dict(self.classes, step_s, self.uncertainty)
                for s in sorted(self.tracks.values(), key=lambda s: s.track_id)]

    def finish(self, tail: dict[str, Any]) -> None:
        body = json.dumps(tail, indent=None, separators=(",", ": "))
        self._json.write("\n], " + body[1:] + "\n")
        self._json.close()
        self._csv_fh.close()
        os.replace(self._part, self.json_path)

    def abort(self) -> None:
        for fh in (self._json, self._csv_fh):
            fh.close()
        for p in (self._part, self.csv_path, self.json_path):
            p.unlink(missing_ok=True)


def load_result(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON document written by ResultWriter."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_summary(path: str | os.PathLike, chunk: int = 1 << 16) -> dict[str, Any]:
    """The JSON document without its timeline (video, tracks, model, ...), read from the end of
    the file: the timeline, one line per analysed frame, is never loaded."""
    marker = b"\n], "  # written once, by ResultWriter.finish, between the timeline and the rest
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        tail, read = b"", 0
        while marker not in tail and read < size:
            step = min(chunk, size - read)
            read += step
            fh.seek(size - read)
            tail = fh.read(step) + tail
    at = tail.rfind(marker)
    if at < 0:
        raise ValueError(f"{Path(path).name} is not a video result document (no end of timeline)")
    return json.loads(b"{" + tail[at + len(marker):])


def iter_timeline_csv(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """The timeline read back from ``timeline.csv`` one analysed frame at a time, as the JSON's
    ``{"t", "frame", "faces": [{"track_id", "box", "emotion", "uncertain", "probabilities"}]}`` entries
    (frames without a face have no row, so they are not yielded; files written before the "uncertain"
    column give no "uncertain"). Memory stays flat however long the video."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or header[:8] != CSV_FIELDS[:8]:
            raise ValueError(f"{Path(path).name} is not a timeline CSV (header {header!r})")
        flagged = header[8:9] == ["uncertain"]
        classes = header[9:] if flagged else header[8:]
        entry: dict[str, Any] | None = None
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise ValueError(f"{Path(path).name}, line {line}: {len(row)} fields, expected {len(header)}")
            frame = int(row[1])
            if entry is None or entry["frame"] != frame:
                if entry is not None:
                    yield entry
                entry = {"t": float(row[0]), "frame": frame, "faces": []}
            entry["faces"].append(_csv_face(row, classes, flagged))
        if entry is not None:
            yield entry


def _csv_face(row: list[str], classes: list[str], flagged: bool) -> dict[str, Any]:
    face: dict[str, Any] = {"track_id": int(row[2]), "box": [int(v) for v in row[3:7]], "emotion": row[7]}
    if flagged:
        face["uncertain"] = row[8] in ("1", "true", "True")
    face["probabilities"] = {c: float(v) for c, v in zip(classes, row[9 if flagged else 8:])}
    return face
