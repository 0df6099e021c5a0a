"""A face built to be doubtful (a stand-in model answering fear 35 % / neutral 30 %) reads
"uncertain" wherever a result is shown: JSON, PDF, the result table, History, the photo-batch
and video-timeline CSVs, the video chart and PDF."""
from __future__ import annotations

import csv
import io
import json
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

import db
from portal.analyses.documents import json_bytes
from portal.analyses.pdf import build_pdf
from realtime import Analyzer, PipelineConfig
from realtime.research.devmodel import CLASSES, write_standin_model
from realtime.research.scenes import real_photo
from realtime.video_records import ResultWriter, iter_timeline_csv, load_result

BLEND = [0.05, 0.05, 0.35, 0.10, 0.10, 0.05, 0.30]
LABEL = "uncertain: fear 35% / neutral 30%"


@pytest.fixture(scope="module")
def doubtful():
    """The analysis of a real photo through a model built to be doubtful."""
    import tempfile
    from pathlib import Path

    model = write_standin_model(Path(tempfile.mkdtemp()), "doubtful", probabilities=BLEND)
    return Analyzer(PipelineConfig(model_path=str(model))).analyze(real_photo("astronaut"))


def _comp(result: dict, comp_id: int = 5) -> dict:
    return {"id": comp_id, "title": "Doubtful", "kind": "upload", "created_at": "2026-01-02T03:04:05Z",
            "faces_found": len(result["faces"]), "dominant_emotion": "fear", "result": result}


def _pdf_text(pdf: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def test_json_and_pdf_say_uncertain(doubtful):
    comp = _comp(doubtful.to_dict())
    doc = json.loads(json_bytes(comp, "ann"))
    assert doc["result"]["faces"][0]["uncertain"] is True
    assert b'"uncertain": true' in json_bytes(comp, "ann")
    text = " ".join(_pdf_text(build_pdf(comp, username="ann")).split())
    assert LABEL in text and "Face 1: " + LABEL in text
    assert "Uncertain faces 1" in text
    assert "62 of 100 people would call this face happy" in text and "no emotion reached 50%" in text


def test_result_table_and_summary(doubtful):
    from portal.gradio_app.events import bars_help, face_rows, summary_markdown
    from portal.analyses.settings import AnalysisSettings

    result = doubtful.to_dict()
    (row,) = face_rows(result)
    assert row[1] == LABEL and row[2] == 35.0
    assert "1 uncertain" in summary_markdown({**_comp(result), "timings_ms": {}})
    text = bars_help(AnalysisSettings())
    assert "62 of 100 people" in text and "Uncertain" in text


def test_history_page_shows_uncertain(client, config, alice, doubtful):
    result = doubtful.to_dict()
    with db.connection():
        comp = db.record_computation(owner_id=alice.id, kind="upload", title="Doubtful", exhibit="", notes="",
                                     consent=True, original_path="", annotated_path="", result=result,
                                     faces_found=1, dominant_emotion="fear", timings={"total": 1.0},
                                     model_version="stand-in")
    page = client.get(f"/history/{comp.id}").get_data(as_text=True)
    assert LABEL in page and 'class="emo-uncertain"' in page and "62 of 100 people" in page
    assert LABEL in _pdf_text(client.get(f"/history/{comp.id}/pdf").data).replace("\n", " ")
    assert json.loads(client.get(f"/history/{comp.id}/json").data)["result"]["faces"][0]["uncertain"] is True


def test_photo_batch_csv_row(doubtful):
    from portal.jobs.batch_task import _rows

    (row,) = _rows("a.jpg", doubtful, CLASSES)
    header = ["photo", "status", "face", "x", "y", "w", "h", "emotion", "uncertain", "confidence", *CLASSES]
    record = dict(zip(header, row))
    assert (record["emotion"], record["uncertain"], record["confidence"]) == ("fear", 1, 0.35)
    assert len(_rows("b.jpg", None, CLASSES, "bad")[0]) == len(header)


def _face(track: int, probs: list[float], uncertain: bool):
    p = dict(zip(CLASSES, probs))
    top = max(p, key=p.get)
    return SimpleNamespace(track_id=track, box=(10, 10, 40, 40), emotion=top, confidence=p[top], probabilities=p,
                           uncertain=uncertain)


def test_video_timeline_csv_json_tracks_and_chart(tmp_path):
    from portal.jobs.video_chart import _segments, timeline_chart
    from portal.jobs.video_summary import video_as_computation

    sure = [0.01, 0.01, 0.02, 0.87, 0.03, 0.02, 0.04]
    writer = ResultWriter(tmp_path, CLASSES)
    for i, doubtful in enumerate([False, True, True, False]):
        writer.add(i / 10, i, [_face(1, BLEND if doubtful else sure, doubtful)])
    tracks = writer.track_summaries(0.1)
    writer.finish({"video": {"fps": 10.0, "sample_fps": None, "duration_s": 0.4, "frames": 4, "frames_analysed": 4},
                   "tracks": tracks, "model": {"name": "m", "version": "1"},
                   "uncertainty": {"rule": "top_probability_below", "threshold": 0.5}})
    rows = list(csv.DictReader(open(writer.csv_path, newline="")))
    assert [r["uncertain"] for r in rows] == ["0", "1", "1", "0"] and rows[1]["emotion"] == "fear"
    doc = load_result(writer.json_path)
    assert [f["uncertain"] for e in doc["timeline"] for f in e["faces"]] == [False, True, True, False]
    assert [f["uncertain"] for e in iter_timeline_csv(writer.csv_path) for f in e["faces"]] == [False, True, True, False]
    (track,) = doc["tracks"]
    assert track["frames"] == 4 and track["uncertain_frames"] == 2
    assert track["dominant_emotion"] == "happy" and track["uncertain"] is True  # the mean says happy 48.5 %
    runs = _segments(doc["timeline"], {1}, 0.1)[1]
    assert {k: len(v) for k, v in runs.items()} == {"happy": 2, "uncertain": 1}
    assert b"uncertain" in timeline_chart(doc)
    video = SimpleNamespace(id=1, title="v", filename="v.mp4", created_at=__import__("datetime").datetime(2026, 1, 1),
                            exhibit="", consent=True, notes="", dominant_emotion="happy")
    comp = video_as_computation(video, doc)
    assert "2 of the 4 faces seen were uncertain" in comp["notes"]


def test_an_old_timeline_csv_without_the_column_still_reads(tmp_path):
    old = tmp_path / "timeline.csv"
    old.write_text("t,frame,track_id,x,y,w,h,emotion," + ",".join(CLASSES) + "\n"
                   "0.0,0,1,1,2,3,4,happy," + ",".join(["0.1"] * 7) + "\n")
    (entry,) = iter_timeline_csv(old)
    assert entry["faces"][0]["emotion"] == "happy" and "uncertain" not in entry["faces"][0]
    assert entry["faces"][0]["probabilities"]["neutral"] == 0.1
