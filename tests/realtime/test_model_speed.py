"""The per-view speed script (realtime/research/model_speed.py) runs as documented and prints a ratio per model."""
from pathlib import Path

from realtime.research.model_speed import main

ONNX = Path(__file__).resolve().parents[2] / "onnx"


def test_speed_table_for_both_shipped_models(capsys):
    assert main([str(ONNX / "emotion-fer2013.onnx"), str(ONNX / "emotion.onnx"), "--calls", "5", "--rounds", "1"]) == 0
    rows = [l for l in capsys.readouterr().out.splitlines() if l.startswith("| ") and "onnx" in l]
    assert len(rows) == 2 and rows[0].endswith("| 1.00 |")
    assert float(rows[1].split("|")[2]) > 0
