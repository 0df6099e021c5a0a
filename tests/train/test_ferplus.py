"""FER+ votes: the loader's validation, targets, metrics with known answers, calibration, and a run on the votes."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from tests.train.test_fit_export import synthetic_csv
from train import calibration as cal
from train.data import DataError
from train.ferplus import HEADER, audit_votes, metrics, read_votes

HEAD = ",".join(HEADER)


def votes_file(path, lines, header=HEAD):
    text = header + "\n" + "\n".join(lines) + "\n"
    path.write_bytes(gzip.compress(text.encode()) if path.suffix == ".gz" else text.encode())
    return path


# row,usage,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF
ROWS = ["0,Training,2,0,0,1,7,0,0,0,0,0",     # anger majority (FER id 0)
        "1,Training,0,6,0,0,0,0,0,2,2,0",     # happiness 6 of 6 emotion votes (contempt/unknown left out)
        "3,PublicTest,4,4,0,0,0,0,0,0,2,0",   # a tie neutral/happiness: no majority
        "4,PublicTest,0,0,0,0,0,0,0,0,1,9"]   # not a face: leaves training


def test_reads_targets_majority_and_audit(tmp_path):
    v = read_votes(votes_file(tmp_path / "v.csv.gz", ROWS), n_rows=5)
    assert v.present.tolist() == [True, True, False, True, True]
    assert v.usable().tolist() == [True, True, False, True, False]
    assert v.majority().tolist() == [0, 3, -1, -1, -1]
    d = v.distribution()
    assert d[0].tolist() == pytest.approx([0.7, 0, 0, 0, 0.1, 0, 0.2])  # anger, sadness, neutral
    assert d[1, 3] == 1.0 and d[4].sum() == 0
    a = audit_votes(v)
    assert (a["with_votes"], a["usable"], a["not_a_face"], a["no_majority"]) == (4, 3, 1, 1)
    assert a["majority_per_class"]["angry"] == 1 and a["contempt_votes"] == 2 and a["unknown_votes"] == 5


@pytest.mark.parametrize("line, message", [
    ("0,Training,2,0,0,x,7,0,0,0,0,0", r"v.csv, line 2, field 'sadness': 'x' is not a vote count"),
    ("0,Training,2,0,0,-1,7,0,0,0,0,0", r"line 2, field 'sadness': '-1' is not a vote count"),
    ("0,Training,2,0,0,99,7,0,0,0,0,0", r"line 2, field 'sadness': '99' is not a vote count \(a whole number 0..20\)"),
    ("7,Training,2,0,0,1,7,0,0,0,0,0", r"line 2, field 'row': 7 is past the end of fer2013.csv \(rows 0..4\)"),
    ("0,Validation,2,0,0,1,7,0,0,0,0,0", r"line 2, field 'usage': 'Validation' is not one of"),
    ("0,Training,2,0,0,1,7,0,0,0,0", r"line 2: 11 fields, expected 12"),
])
def test_bad_rows_are_named_by_file_line_and_field(tmp_path, line, message):
    with pytest.raises(DataError, match=message):
        read_votes(votes_file(tmp_path / "v.csv", [line]), n_rows=5)


def test_missing_column_and_repeated_row(tmp_path):
    header = HEAD.replace(",fear", "")
    with pytest.raises(DataError, match=r"v.csv, line 1: missing column\(s\) fear"):
        read_votes(votes_file(tmp_path / "v.csv", ["0,Training,2,0,0,1,7,0,0,0,0"], header), n_rows=5)
    with pytest.raises(DataError, match=r"line 3, field 'row': row 0 appears twice"):
        read_votes(votes_file(tmp_path / "v.csv", [ROWS[0], ROWS[0]]), n_rows=5)
    with pytest.raises(DataError, match=r"nothere.csv: file not found"):
        read_votes(tmp_path / "nothere.csv", n_rows=5)


def test_metrics_known_answers():
    dist = np.array([[0.7, 0.3, 0, 0, 0, 0, 0], [0, 0.4, 0.6, 0, 0, 0, 0], [0, 0, 0, 0.5, 0.5, 0, 0]])
    maj = np.array([0, 2, -1])
    probs = np.array([[0.9, 0.1, 0, 0, 0, 0, 0], [0, 0.8, 0.2, 0, 0, 0, 0], [0, 0, 0, 1.0, 0, 0, 0]])
    m = metrics(probs, dist, maj)
    assert m["ferplus_accuracy"] == 0.5 and m["ferplus_n"] == 2
    assert m["annotator_agreement"] == pytest.approx((0.7 + 0.4 + 0.5) / 3)
    assert m["vote_cross_entropy"] == pytest.approx(-(0.7 * np.log(0.9) + 0.3 * np.log(0.1) + 0.4 * np.log(0.8)
                                                     + 0.6 * np.log(0.2) + 0.5 * np.log(1.0) + 0.5 * np.log(1e-7)) / 3)


def test_temperature_is_recovered_and_ece_falls():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2000, 7)) * 2
    dist = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    over = np.exp(2 * z) / np.exp(2 * z).sum(1, keepdims=True)  # overconfident by a factor 2 in the logits
    t = cal.fit_temperature(over, dist)
    assert t == pytest.approx(2.0, abs=0.02)
    assert cal.reliability(cal.with_temperature(over, t), dist)["ece"] < 0.2 * cal.reliability(over, dist)["ece"]


def test_coverage_curve_and_the_coin_flip_threshold():
    # 4 faces at top probability 0.3 (1 right), 4 at 0.6 (3 right), 4 at 0.9 (4 right)
    probs = np.zeros((12, 7)); maj = np.zeros(12, dtype=int)
    for i, (p, right) in enumerate([(0.3, 1)] * 4 + [(0.6, 3)] * 4 + [(0.9, 4)] * 4):
        probs[i] = (1 - p) / 6; probs[i, 0] = p
    maj[1:4] = 1; maj[7] = 1  # wrong answers
    curve = cal.coverage_curve(probs, maj, thresholds=np.array([0.25, 0.5, 0.75]))
    assert [r["coverage"] for r in curve] == pytest.approx([1.0, 8 / 12, 4 / 12])
    assert curve[1]["accuracy_uncertain"] == 0.25 and curve[2]["accuracy_uncertain"] == 0.5
    assert cal.choose_threshold(curve)["threshold"] == 0.75  # below 0.75 the answer is right half the time
    assert cal.choose_threshold(curve, max_uncertain_accuracy=0.3)["threshold"] == 0.5


def test_training_on_votes_follows_the_annotators_not_the_labels(tmp_path, monkeypatch):
    """Votes that name the next class: a run on the votes learns the votes (FER+ accuracy high, label accuracy low)."""
    from train.config import build_config
    from train.engine import fit

    monkeypatch.setenv("EMOTION_CACHE_DIR", "")
    data = synthetic_csv(tmp_path / "synth.csv", n_per_class=20)
    fer_to_col = {0: 4, 1: 5, 2: 6, 3: 1, 4: 3, 5: 2, 6: 0}
    labels = np.repeat(np.arange(7), 20)
    lines = []
    for row, y in enumerate(labels):
        counts = [0] * 10
        counts[fer_to_col[(y + 1) % 7]] = 8
        counts[fer_to_col[y]] = 2
        lines.append(f"{row},{'PublicTest' if row % 20 % 5 == 0 else 'Training'}," + ",".join(map(str, counts)))
    votes = votes_file(tmp_path / "votes.csv", lines)
    cfg = build_config(None, [f"data={data}", f"ferplus={votes}", "targets=votes", "model=vgg_small", "epochs=6",
                              "batch_size=16", "lr=0.05", f"out_dir={tmp_path}/runs", "name=v", "threads=2",
                              "label_smoothing=0.0", "augment={'erase_p': 0.0, 'max_rotation': 5.0}"])
    best = fit(cfg, progress=False)
    assert best["select"] == "ferplus"
    assert best["ferplus_accuracy"] >= 0.9 and best["val_acc"] <= 0.2
    assert best["annotator_agreement"] > 0.6
