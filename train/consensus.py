"""``python -m train calibrate``: a model on PublicTest against the FER+ votes -> reliability, temperature,
coverage curve, the chosen "uncertain" threshold; optionally written into the model's metadata (the rule travels
with the model, realtime.contract)."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from realtime import contract
from realtime.classifier import load_ensemble

from . import calibration as cal
from .cache import load_faces
from .data import DataError
from .ferplus import Votes, default_path, read_votes

log = logging.getLogger(__name__)


def publictest_with_votes(data: str, ferplus: str | None = None):
    faces = load_faces(data)
    n_rows = int(faces.lines.max()) - 1
    faces = faces.select_usage("PublicTest")
    rows = faces.lines.astype(np.int64) - 2
    votes = read_votes(ferplus or default_path(), n_rows)
    return faces, Votes(votes.counts[rows], votes.source)


def calibrate(model: Path, data: str, ferplus: str | None = None) -> dict:
    faces, votes = publictest_with_votes(data, ferplus)
    probs = load_ensemble(model, tta_ensemble=False).predict(faces.images, tta=False)
    dist, maj = votes.distribution(), votes.majority()
    if not (dist.sum(axis=1) > 0).any():
        raise DataError(f"{data}: no PublicTest face has FER+ votes; cannot calibrate")
    before = cal.reliability(probs, dist)
    t = cal.fit_temperature(probs, dist)
    scaled = cal.with_temperature(probs, t)
    after = cal.reliability(scaled, dist)
    curve = cal.coverage_curve(probs, maj)
    chosen = cal.choose_threshold(curve)
    return {"model": str(model), "n": int(len(probs)), "n_majority": int((maj >= 0).sum()),
            "reliability": before, "temperature": round(t, 2),
            "reliability_scaled": after, "vote_cross_entropy": cal.vote_cross_entropy(probs, dist),
            "vote_cross_entropy_scaled": cal.vote_cross_entropy(scaled, dist), "coverage_curve": curve,
            "chosen": chosen}


def rule_from(result: dict) -> contract.UncertaintyRule:
    c = result["chosen"]
    return contract.UncertaintyRule(
        "top_probability_below", c["threshold"],
        chosen_on=(f"PublicTest, FER+ majority (n={result['n_majority']}): the largest threshold at which the faces below it "
                   f"are answered right at most half of the time ({c['accuracy_uncertain']:.1%}); "
                   f"keeps {c['coverage']:.1%} of faces at {c['accuracy_kept']:.1%} accuracy"),
        note="uncertain: the top probability is below the threshold; the two leading emotions are shown instead")


def write_metadata(model: Path, result: dict) -> Path:
    meta = contract.read(model)
    meta.uncertainty = rule_from(result)
    meta.extra["calibration"] = {"ece_vs_annotators": round(result["reliability"]["ece"], 4),
                                 "vote_cross_entropy": round(result["vote_cross_entropy"], 4),
                                 "fitted_temperature": result["temperature"],
                                 "measured_on": "PublicTest, FER+ vote shares (train/consensus.py)"}
    return contract.write(model, meta)


def run(args) -> dict:
    model = Path(args.model)
    result = calibrate(model, args.data, args.ferplus)
    stem = model.stem
    if args.out_dir:
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"calibration_{stem}.json").write_text(json.dumps(result, indent=1))
        cal.plot(result["reliability"], result["reliability_scaled"], result["coverage_curve"], result["chosen"],
                 Path(args.figures) / f"calibration_{stem}.png")
    if args.write:
        log.info("wrote the uncertainty rule into %s", write_metadata(model, result))
    return result


def format_result(r: dict) -> str:
    c = r["chosen"]
    return (f"{r['model']}: ECE vs annotators {r['reliability']['ece']:.4f} (temperature {r['temperature']:.2f}: "
            f"{r['reliability_scaled']['ece']:.4f}); vote CE {r['vote_cross_entropy']:.4f} -> "
            f"{r['vote_cross_entropy_scaled']:.4f}\nuncertain below {c['threshold']:.2f}: coverage "
            f"{c['coverage']:.3f}, accuracy kept {c['accuracy_kept']:.4f}, uncertain {c['accuracy_uncertain']:.4f}")
