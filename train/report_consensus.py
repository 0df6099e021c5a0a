"""REPORT section 0: the two shipped models on both label sets, "uncertain", calibration, the pipeline at rolls.

Reads docs/results/ (written by :func:`score_shipped_models`, ``train calibrate`` and ``train evaluate --pipeline
--rolls``); the numbers are PublicTest's. Each column says which question it answers.
"""
from __future__ import annotations

import json
import logging
from argparse import Namespace
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
ROLES = {"emotion.onnx": "**default** (`onnx/emotion.onnx`): trained on the FER+ votes",
         "emotion-fer2013.onnx": "FER2013-label benchmark (`onnx/emotion-fer2013.onnx`)"}
LITERATURE = {"fer2013": "72.7–73.3% (single networks from scratch, PrivateTest)",
              "ferplus": "≈84–85% from scratch (FER+'s VGG13), 88–89% pretrained (FER+ test set)"}


def score_shipped_models(data: str, out: Path) -> list[dict]:
    """Every ``onnx/*.onnx`` on PublicTest against FER2013's labels and the FER+ majority -> ``out`` (JSON)."""
    from .evaluate import run_evaluate

    rows = []
    for model in sorted((ROOT / "onnx").glob("*.onnx")):
        args = Namespace(data=data, usage="PublicTest", model=str(model), tta=False, json=None, cm_png=None,
                         skip_invalid=False, ferplus=None)
        r = run_evaluate(args)
        f = r.get("ferplus") or {}
        rows.append({"model": model.name, "accuracy": r["accuracy"], "macro_f1": r["macro_f1"], "n": r["n"],
                     **{f"ferplus_{k}": f.get(k) for k in ("accuracy", "macro_f1", "n")},
                     "annotator_agreement": f.get("annotator_agreement"),
                     "vote_cross_entropy": f.get("vote_cross_entropy"), "ms_per_face": r["ms_per_face"]})
    out.write_text(json.dumps(rows, indent=1))
    return rows


def _pct(x) -> str:
    return "—" if x is None or x != x else f"{100 * x:.1f}%"  # None or NaN (no face in that group)


def _models_table(rows: list[dict]) -> list[str]:
    s = ["| model | FER2013 labels: accuracy | macro-F1 | FER+ majority: accuracy | macro-F1 | "
         "annotators agreeing | CE to votes |", "|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["model"] not in ROLES, r["model"])):
        s.append(f"| {ROLES.get(r['model'], r['model'])} | {_pct(r['accuracy'])} | {r['macro_f1']:.3f} | "
                 f"{_pct(r['ferplus_accuracy'])} | {r['ferplus_macro_f1'] or 0:.3f} | "
                 f"{r['annotator_agreement'] or 0:.3f} | {r['vote_cross_entropy'] or 0:.3f} |")
    s.append(f"| *literature* | *{LITERATURE['fer2013']}* | | *{LITERATURE['ferplus']}* | | | |")
    return s + [""]


def _calibration(cal: dict) -> list[str]:
    c, rel, rel_t = cal["chosen"], cal["reliability"], cal["reliability_scaled"]
    s = ["### \"Uncertain\" and what a probability means", "",
         f"Reliability against the annotators (PublicTest, n = {cal['n']}): the model's probability for its answer "
         f"against the share of the 10 annotators who gave that answer. Expected calibration error **{rel['ece']:.3f}** "
         f"as shipped; a fitted temperature of {cal['temperature']:.2f} would give {rel_t['ece']:.3f} "
         f"(cross-entropy to the votes {cal['vote_cross_entropy']:.4f} -> {cal['vote_cross_entropy_scaled']:.4f}).", "",
         "| model's probability | faces | mean probability | mean share of annotators agreeing |", "|---|---|---|---|"]
    s += [f"| {b['low']:.1f}–{b['high']:.1f} | {b['n']} | {b['probability']:.3f} | {b['vote_share']:.3f} |"
          for b in rel["bins"]]
    s += ["", f"**The rule**: a face is *uncertain* when its top probability is below **{c['threshold']:.2f}** — the "
          "largest threshold at which the faces below it agree with the annotators' majority at most half of the time "
          f"({_pct(c['accuracy_uncertain'])} here). It keeps {_pct(c['coverage'])} of faces, answered at "
          f"{_pct(c['accuracy_kept'])} against the majority; the rule and this provenance travel in the model's metadata "
          "(`uncertainty`).", "", "| threshold | coverage | accuracy on kept faces | accuracy on uncertain faces |",
          "|---|---|---|---|"]
    s += [f"| {r['threshold']:.2f} | {_pct(r['coverage'])} | {_pct(r['accuracy_kept'])} | {_pct(r['accuracy_uncertain'])} |"
          for r in cal["coverage_curve"]]
    return s + ["", f"![calibration](figures/calibration_{Path(cal['model']).stem}.png)", ""]


PIPELINE_RUNS = [(m, labels) for m in ("emotion", "emotion-fer2013") for labels in ("fer2013", "ferplus")]


def _pipeline_models(load) -> list[str]:
    """Where users see it: both models through the whole pipeline, scored against both label sets."""
    rows = [(m, lab, load(f"pipeline_{m}_{lab}.json")) for m, lab in PIPELINE_RUNS]
    rows = [r for r in rows if r[2]]
    if not rows:
        return []
    s = ["### Where users see it: the whole pipeline", "",
         f"PublicTest faces placed in photos, detected, cropped (upright), classified as the app does "
         f"(`train evaluate --pipeline --limit N [--labels ferplus] --model ...`; seed 0; \"no face\" counts as wrong). "
         "Against FER+ only faces with a unique majority are used.", "",
         "| model | scored against | faces | whole pipeline: accuracy | macro-F1 | no face | classifier alone: accuracy |",
         "|---|---|---|---|---|---|---|"]
    for m, lab, r in rows:
        p, c = r["pipeline"], r["classifier_only"]
        s.append(f"| `{m}.onnx` | {'FER+ majority' if lab == 'ferplus' else 'FER2013 labels'} | {r['n']} | "
                 f"{_pct(p['accuracy'])} | {p['macro_f1']:.3f} | {100 * p['no_face_share']:.1f}% | {_pct(c['accuracy'])} |")
    return s + [""]


def section_consensus(load) -> list[str]:
    rows, cal = load("models_publictest.json"), load("calibration_emotion.json")
    s = ["## 0. Two models, two questions", "",
         "FER2013's label is one person's answer per face; FER+ asked 10 annotators. **Accuracy against FER2013's labels** "
         "answers \"how often does the model give the dataset's label\" (the number the FER2013 literature reports). "
         "**Accuracy against the FER+ majority** answers \"how often does the model say what most people say\" (faces "
         "with a unique majority). **Annotators agreeing** is the mean share of the 10 who gave the model's answer; "
         "**CE to votes** is the cross-entropy from the vote distribution to the model's probabilities (lower: the "
         "probabilities are closer to how people split). All on PublicTest (the withheld PrivateTest is measured "
         "independently); the literature's numbers are on their own test splits.", ""]
    if rows:
        s += _models_table(rows)
    if cal:
        s += _calibration(cal)
    s += _pipeline_models(load)
    for name in ("pipeline_rolls.md",):
        p = ROOT / "docs" / "results" / name
        if p.is_file():
            s += [p.read_text(), ""]
    return s + _speed_and_gpu()


def _speed_and_gpu() -> list[str]:
    speed = ROOT / "docs" / "results" / "model_speed.md"
    s = ["### Cost, and a GPU when lent", ""]
    if speed.is_file():
        s += ["Per view, batch 1, one thread (`python -m realtime.research.model_speed onnx/emotion-fer2013.onnx "
              "onnx/emotion.onnx`; the same network, so the same cost; the goal was a ratio of at most 1.15):", "",
              speed.read_text().strip(), ""]
    precision = ROOT / "docs" / "results" / "precision.md"
    if precision.is_file():
        s += [precision.read_text().strip(), "",
              "Measured while the test suite shared the CPU, variants one after another, so the steps/s are rough; "
              "the accuracies are equal within noise, and bf16 autocast with channels_last is the fastest, so "
              "every run uses it.", ""]
    s += ["The FER+ run trained at 115-245 img/s on one thread while the other core ran the rest of the work "
          "(resumed once, `--resume ... --set epochs=16`).",
          "",
          "No GPU was lent to this work. `make gpu-pack` packs Training + PublicTest and the votes (about 56 MB, to "
          "travel with the tree) and `bash train/gpu_teacher.sh` trains a wider network (`vgg`, 4.8M parameters) on "
          "the votes as a teacher, exports it and scores it on both label sets; "
          "`train/configs/vgg_small_ferplus_kd.yaml` then distils it into the small default model on the CPU. The "
          "script is tested end to end on the CPU with a tiny budget (`tests/train/test_gpu_teacher.py`); its "
          "numbers on a GPU are not measured yet.", ""]
    return s
