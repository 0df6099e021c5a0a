"""Stream: IoU tracking and EMA smoothing on synthetic frame sequences."""
from __future__ import annotations

import numpy as np
import pytest

from realtime import Analyzer, PipelineConfig, Stream, StreamConfig
from realtime.research.bench import stream_frames
from realtime.detect import Detection

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


class ScriptedDetector:
    """Returns the boxes scripted for each call."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = 0

    def detect(self, rgb):
        boxes = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        return [Detection(b, 0.9) for b in boxes]


class FlickerClassifier:
    """happy 0.6 / sad 0.4, then happy 0.45 / sad 0.55, alternately: a flickering raw label
    whose average is happy."""

    metadata = {"tta": {"hflip": False}}
    classes = CLASSES
    input_size = (48, 48)
    name, version = "flicker", "0"

    def __init__(self):
        self.calls = 0

    def predict(self, faces, tta=False):
        p = np.full((len(faces), 7), 0.0, np.float32)
        hi, lo = (0.6, 0.4) if self.calls % 2 == 0 else (0.45, 0.55)
        p[:, 3], p[:, 4] = hi, lo
        self.calls += 1
        return p


def _stream(script, **cfg):
    an = Analyzer(PipelineConfig(), classifier=FlickerClassifier(), detector=ScriptedDetector(script))
    return Stream(analyzer=an, stream_config=StreamConfig(**cfg))


def test_tracks_follow_moving_faces_and_smoothing_stops_flicker():
    frame = np.zeros((240, 320, 3), np.uint8)
    # two faces drifting right by 4 px per frame
    script = [[(20 + 4 * i, 40, 50, 50), (200 + 4 * i, 100, 40, 40)] for i in range(12)]
    stream = _stream(script, alpha=0.35, box_alpha=1.0)
    raw_labels, labels, ids = [], [], []
    for _ in range(12):
        res = stream.process(frame)
        assert len(res.faces) == 2
        ids.append(tuple(f.track_id for f in res.faces))
        labels.append(res.faces[0].emotion)
        raw = res.faces[0].raw_probabilities
        raw_labels.append(max(raw, key=raw.get))
    assert set(ids) == {(1, 2)}  # same ids all along
    assert len(set(raw_labels)) == 2  # the raw output flickers...
    assert set(labels) == {"happy"}  # ...the smoothed label does not
    p = res.faces[0].probabilities
    assert abs(sum(p.values()) - 1) < 1e-6 and 0.5 < p["happy"] < 0.6


def test_new_face_new_id_lost_face_expires_and_reset():
    frame = np.zeros((240, 320, 3), np.uint8)
    a, b = (20, 40, 50, 50), (200, 100, 40, 40)
    script = [[a]] * 3 + [[a, b]] * 3 + [[b]] * 4 + [[a, b]]
    stream = _stream(script, max_missed=2)
    seen = [[f.track_id for f in stream.process(frame).faces] for _ in range(len(script))]
    assert seen[:3] == [[1]] * 3
    assert seen[3:6] == [[1, 2]] * 3
    assert seen[6:10] == [[2]] * 4
    assert seen[10] == [3, 2]  # track 1 expired after 2 missed frames; face a comes back as a new track
    stream.reset()
    assert stream.tracks == [] and [f.track_id for f in stream.process(frame).faces] == [1, 2]


def test_smoothing_converges_to_a_steady_signal():
    frame = np.zeros((64, 64, 3), np.uint8)
    stream = _stream([[(5, 5, 30, 30)]], alpha=0.5)
    # first frame: happy 0.6; then alternating 0.45 / 0.6 -> the EMA settles in between
    vals = [stream.process(frame).faces[0].probabilities["happy"] for _ in range(20)]
    assert vals[0] == pytest.approx(0.6, abs=1e-6)
    assert vals[1] == pytest.approx(0.5 * 0.45 + 0.5 * 0.6, abs=1e-6)
    assert all(0.45 - 1e-6 <= v <= 0.6 + 1e-6 for v in vals)
    assert abs(vals[-1] - vals[-3]) < 1e-3  # periodic steady state
    assert abs(vals[-1] - vals[-2]) < 0.08  # swing 0.15 raw -> 0.05 smoothed


def test_real_stream_keeps_one_track(pipeline_config):
    frames = stream_frames(20)
    stream = Stream(pipeline_config)
    ids = [[f.track_id for f in stream.process(fr).faces] for fr in frames]
    assert sum(1 for i in ids if i == [1]) >= 18  # the one face keeps id 1 while it moves
    assert all(i in ([], [1]) for i in ids)


def test_bad_stream_config():
    with pytest.raises(ValueError, match="alpha"):
        _stream([[]], alpha=0.0)


def test_tile_every_must_be_positive():
    from realtime.config import StreamConfig

    with pytest.raises(ValueError, match="tile_every must be >= 1"):
        Stream(stream_config=StreamConfig(tile_every=0), analyzer=object())


class TiledDetector:
    """A 3x3-tiled detector: records which tiles each frame asked for; tile 4 finds a face in
    every frame it runs."""

    n_tiles = 9

    def __init__(self):
        self.asked: list[set[int] | None] = []

    def detect(self, rgb, tiles=None):
        self.asked.append(None if tiles is None else set(tiles))
        return [Detection((100, 100, 20, 20), 0.9, 4)] if tiles is None or 4 in tiles else []


def test_tiles_run_in_turn_and_every_frame_while_their_face_is_tracked():
    detector = TiledDetector()
    an = Analyzer(PipelineConfig(closeup=False), classifier=FlickerClassifier(), detector=detector)
    stream = Stream(stream_config=StreamConfig(tile_every=3, closeup_every=0), analyzer=an)
    frame = np.zeros((240, 320, 3), np.uint8)
    ids = [[f.track_id for f in stream.process(frame).faces] for _ in range(4)]
    assert detector.asked == [{0, 3, 6}, {1, 4, 7}, {2, 5, 8, 4}, {0, 3, 6, 4}]
    assert ids == [[], [1], [1], [1]]  # found when its tile's turn came, then kept every frame
    stream.reset()
    stream.process(frame)
    assert detector.asked[-1] == {0, 3, 6}  # a new video starts the turns again, with no tracked tile
    everything = Stream(stream_config=StreamConfig(tile_every=1), analyzer=an)
    everything.process(frame)
    assert detector.asked[-1] is None  # tile_every=1: all tiles, as for photos
