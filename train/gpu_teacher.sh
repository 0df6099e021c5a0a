#!/usr/bin/env bash
# One command for a lent GPU (issue 17, part 8): train a wider network on the FER+ votes as a teacher (about 6 min of
# one H100), export it with its metadata and score it on PublicTest against both label sets.
#
#   here, once:      make gpu-pack                       (artifacts/gpu/: packed Training+PublicTest faces + votes)
#   on the device:   bash train/gpu_teacher.sh           (run tool: carry ["artifacts/gpu"]; results under $OUT)
#   back here:       python -m train fit --config train/configs/vgg_small_ferplus_kd.yaml --set teacher=<teacher.onnx>
#
# EXTRA adds `--set key=value` options (the test runs it on the CPU with a tiny budget).
set -euo pipefail
PY=${PY:-python3}
SRC=${GPU_DATA:-artifacts/gpu}
DEST=${OUT:-artifacts/gpu/out}
mkdir -p "$DEST"
$PY -m train --log-file "$DEST/train.log" fit --config train/configs/gpu_teacher_ferplus.yaml \
    --set "data=$SRC/fer2013-train-val.npz.xz" --set "ferplus=$SRC/ferplus_votes.csv.gz" --set "out_dir=$DEST/runs" ${EXTRA:-}
$PY -m train --log-file '' export "$DEST/runs/gpu_teacher_ferplus/best.pt" --name teacher-ferplus --out-dir "$DEST"
$PY -m train --log-file '' evaluate --data "$SRC/fer2013-train-val.npz.xz" --usage PublicTest \
    --ferplus "$SRC/ferplus_votes.csv.gz" --model "$DEST/teacher-ferplus.onnx" --json "$DEST/teacher-ferplus-publictest.json"
