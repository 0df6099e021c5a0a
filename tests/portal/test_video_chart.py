"""The timeline chart's runs: known answers, and the same runs from the JSON timeline and from
the CSV read back one frame at a time (what the page uses, so hours of video are never loaded)."""
from __future__ import annotations

from types import SimpleNamespace

from portal.jobs.video_chart import _segments, timeline_chart
from realtime.video_records import ResultWriter, iter_timeline_csv, load_result, load_summary

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def _face(track, emotion):
    return SimpleNamespace(track_id=track, box=(10 * track, 5, 40, 40), emotion=emotion, confidence=0.6,
                           probabilities={c: (0.6 if c == emotion else 0.4 / 6) for c in CLASSES})


# track 1: happy 0.0-0.2, sad 0.3, (gone 0.4), happy 0.5; track 2: neutral 0.1-0.2
SCRIPT = [[(1, "happy")], [(1, "happy"), (2, "neutral")], [(1, "happy"), (2, "neutral")], [(1, "sad")], [],
          [(1, "happy")]]


def _result(tmp_path):
    writer = ResultWriter(tmp_path, CLASSES)
    for i, faces in enumerate(SCRIPT):
        writer.add(i / 10, i, [_face(k, e) for k, e in faces])
    writer.finish({"video": {"fps": 10.0, "sample_fps": None, "duration_s": 0.6}, "tracks": writer.track_summaries(0.1)})
    return writer


def test_runs_per_track_known_answer(tmp_path):
    timeline = load_result(_result(tmp_path).json_path)["timeline"]
    runs = _segments(timeline, {1, 2}, step=0.1)
    assert {e: [(round(a, 3), round(b, 3)) for a, b in spans] for e, spans in runs[1].items()} == \
        {"happy": [(0.0, 0.3), (0.5, 0.1)], "sad": [(0.3, 0.1)]}
    assert {e: [(round(a, 3), round(b, 3)) for a, b in s] for e, s in runs[2].items()} == {"neutral": [(0.1, 0.2)]}
    assert _segments(timeline, {2}, step=0.1).keys() == {2}  # tracks not drawn are skipped


def test_chart_from_the_csv_matches_the_json(tmp_path):
    writer = _result(tmp_path)
    doc = load_result(writer.json_path)
    assert _segments(iter_timeline_csv(writer.csv_path), {1, 2}, 0.1) == _segments(doc["timeline"], {1, 2}, 0.1)
    svg = timeline_chart(load_summary(writer.json_path), iter_timeline_csv(writer.csv_path))
    assert svg.startswith(b"<?xml") and b"</svg>" in svg
