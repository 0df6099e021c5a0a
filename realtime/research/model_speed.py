"""Per-view speed of ONNX models side by side: batch 1, one thread, rounds interleaved so that both see the same
machine load; prints each model's median ms per view and the ratio to the first (the baseline).

    python -m realtime.research.model_speed onnx/emotion-fer2013.onnx onnx/emotion.onnx [--calls 2000] [--rounds 5]
"""
from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import onnxruntime as ort

log = logging.getLogger(__name__)


def session(path: str) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def time_calls(sess: ort.InferenceSession, x: np.ndarray, calls: int) -> float:
    name = sess.get_inputs()[0].name
    t = time.perf_counter()
    for _ in range(calls):
        sess.run(None, {name: x})
    return 1000 * (time.perf_counter() - t) / calls


def compare(paths: list[str], calls: int = 2000, rounds: int = 5) -> dict[str, float]:
    x = np.random.default_rng(0).standard_normal((1, 1, 48, 48)).astype(np.float32)
    sessions = {p: session(p) for p in paths}
    for s in sessions.values():
        time_calls(s, x, 50)  # warm-up
    times: dict[str, list[float]] = {p: [] for p in paths}
    for _ in range(rounds):
        for p, s in sessions.items():
            times[p].append(time_calls(s, x, calls))
    return {p: float(np.median(v)) for p, v in times.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="ONNX files; the first is the baseline")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    result = compare(args.models, args.calls, args.rounds)
    base = result[args.models[0]]
    print("| model | ms per view (batch 1, 1 thread, median of rounds) | ratio to the first |\n|---|---|---|")
    for p, ms in result.items():
        print(f"| {p} | {ms:.3f} | {ms / base:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
