"""The prepared GPU command (train/gpu_teacher.sh) runs end to end, here on the CPU with a tiny budget:
packed faces + votes in, a teacher ONNX with metadata and its PublicTest scores on both label sets out."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.train.test_ferplus import votes_file
from tests.train.test_fit_export import synthetic_csv

REPO = Path(__file__).resolve().parents[2]


def test_gpu_teacher_script_runs_on_packed_data(tmp_path):
    src = tmp_path / "gpu"
    src.mkdir()
    csv = synthetic_csv(tmp_path / "synth.csv", n_per_class=8)
    env = {**os.environ, "PYTHONPATH": str(REPO), "EMOTION_CACHE_DIR": ""}
    subprocess.run([sys.executable, "-m", "train", "--log-file", "", "pack", str(csv), "--out",
                    str(src / "fer2013-train-val.npz.xz"), "--usage", "Training", "--usage", "PublicTest"],
                   cwd=REPO, env=env, check=True, capture_output=True, timeout=120)
    lines = [f"{r},{'PublicTest' if r % 8 % 5 == 0 else 'Training'},0,0,0,0,0,0,0,0,0,0" for r in range(56)]
    lines = [l[:-19] + ",".join("8" if i == int(l.split(",")[0]) // 8 % 7 else "0" for i in range(10)) for l in lines]
    votes_file(src / "ferplus_votes.csv.gz", lines)
    out = tmp_path / "out"
    extra = "--set epochs=1 --set model=vgg_small --set batch_size=16 --set threads=2 --set ema_decay=0.0"
    done = subprocess.run(["bash", "train/gpu_teacher.sh"], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**env, "PY": sys.executable, "GPU_DATA": str(src), "OUT": str(out), "EXTRA": extra})
    assert done.returncode == 0, done.stderr[-2000:]
    meta = json.loads((out / "teacher-ferplus.json").read_text())
    assert meta["training"]["targets"] == "votes" and (out / "teacher-ferplus.onnx").stat().st_size > 0
    scores = json.loads((out / "teacher-ferplus-publictest.json").read_text())
    assert scores["n"] == 14 and "accuracy" in scores["ferplus"] and np.isfinite(scores["ferplus"]["vote_cross_entropy"])
