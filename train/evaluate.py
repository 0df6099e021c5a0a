"""Evaluate the exported ONNX model through onnxruntime: the same code path as the app (realtime.classifier)."""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from realtime.classifier import DEFAULT_MODEL, load_ensemble

from .cache import load_faces
from .data import CLASS_LABELS, CLASSES, DataError
from .metrics import confusion_matrix, most_confused, summarize

log = logging.getLogger(__name__)


def plot_confusion(cm: np.ndarray, out: Path, title: str = "") -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, mat, fmt, name in ((axes[0], cm, "d", "counts"), (axes[1], norm, ".2f", "row-normalised (recall)")):
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(cm)):
            for j in range(len(cm)):
                ax.text(j, i, format(mat[i, j], fmt), ha="center", va="center", fontsize=8,
                        color="white" if norm[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(cm)), CLASS_LABELS, rotation=45, ha="right")
        ax.set_yticks(range(len(cm)), CLASS_LABELS)
        ax.set_xlabel("predicted"); ax.set_ylabel("true"); ax.set_title(name)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def evaluate_faces(images: np.ndarray, labels: np.ndarray, model_path=None, tta: bool = False) -> tuple[dict, np.ndarray]:
    clf = load_ensemble(model_path, tta_ensemble=tta)
    t = time.perf_counter()
    probs = clf.predict(images, tta="full" if tta else False)
    seconds = time.perf_counter() - t
    pred = probs.argmax(1)
    cm = confusion_matrix(labels, pred, len(CLASSES))
    result = summarize(cm, CLASSES)
    result.update({"most_confused": most_confused(cm, CLASSES), "tta": tta, "models": clf.names,
                   "ms_per_face": 1000 * seconds / max(len(images), 1)})
    return result, probs


def format_metrics(m: dict) -> str:
    lines = ["Against FER2013's labels:" if "ferplus" in m else "",
             f"n = {m['n']}   accuracy = {m['accuracy']:.4f}   macro-F1 = {m['macro_f1']:.4f}", "",
             f"{'class':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for name, c in m["per_class"].items():
        lines.append(f"{name:<10}{c['precision']:>10.3f}{c['recall']:>10.3f}{c['f1']:>10.3f}{c['support']:>10}")
    if "ferplus" in m:
        f = m["ferplus"]
        lines += ["", "Against the FER+ annotators' majority (faces with a unique majority):",
                  f"n = {f['n']}   accuracy = {f['accuracy']:.4f}   macro-F1 = {f['macro_f1']:.4f}   "
                  f"mean share of annotators agreeing = {f['annotator_agreement']:.4f}   "
                  f"cross-entropy to the votes = {f['vote_cross_entropy']:.4f} (n = {f['votes_n']})"]
        for name, c in f["per_class"].items():
            lines.append(f"{name:<10}{c['precision']:>10.3f}{c['recall']:>10.3f}{c['f1']:>10.3f}{c['support']:>10}")
    return "\n".join(l for l in lines if l is not None)


def _labelled_faces(args):
    faces = load_faces(args.data, skip_invalid=args.skip_invalid)
    args.n_rows = int(faces.lines.max()) - 1 if len(faces) else 0  # data rows of the whole file (FER+ alignment)
    if args.usage:
        faces = faces.select_usage(args.usage)
    if not faces.has_labels:
        raise DataError(f"{args.data}: has no labels, so it cannot be evaluated; "
                        "use `python -m realtime predict` to classify unlabelled faces")
    if len(faces) == 0:
        raise DataError(f"{args.data}: no rows to evaluate" + (f" with Usage {args.usage}" if args.usage else ""))
    return faces


def _write_json(result: dict, path: str | None) -> None:
    if path:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1))
        log.info("metrics written to %s", out)


def parse_rolls(text: str | None) -> list[float]:
    """``"0,15,-15"`` -> [0.0, 15.0, -15.0] (degrees); DataError for anything else."""
    if not text:
        return []
    try:
        rolls = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise DataError(f"--rolls must be degrees separated by commas, like 0,15,-15,30,-30; got {text!r}") from None
    if not rolls or any(abs(r) > 90 for r in rolls):
        raise DataError(f"--rolls must be degrees between -90 and 90, like 0,15,-15,30,-30; got {text!r}")
    return rolls


def run_pipeline(args) -> dict:
    """``evaluate --pipeline``: the app's detection + crop + classifier on FER faces placed in
    larger images, beside the classifier alone (train/pipeline_eval.py); with ``--rolls``, the same
    faces turned by each roll, with and without the upright correction."""
    from .pipeline_eval import evaluate_pipeline, evaluate_rolls

    if args.tta:
        raise DataError("--tta is not available with --pipeline: the pipeline uses the model's own TTA setting")
    rolls = parse_rolls(getattr(args, "rolls", None))
    faces = _labelled_faces(args)
    images, labels = _pipeline_labels(args, faces)
    if args.limit and args.limit < len(images):
        keep = np.sort(np.random.default_rng(args.seed).choice(len(images), args.limit, replace=False))
        images, labels = images[keep], labels[keep]
    model = Path(args.model) if args.model else DEFAULT_MODEL
    if rolls:
        result = evaluate_rolls(images, labels, rolls, model, detector=args.detector, seed=args.seed)
        result["labels"] = getattr(args, "labels", "fer2013")
        if args.json:  # the table for REPORT beside the JSON
            from .pipeline_eval import rolls_markdown

            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).with_suffix(".md").write_text(rolls_markdown(result))
    else:
        result = evaluate_pipeline(images, labels, model, detector=args.detector, seed=args.seed)
    result.update({"data": str(args.data), "usage": args.usage or "all", "model_file": str(model),
                   "labels": getattr(args, "labels", "fer2013"),
                   "subset": f"{len(images)} of {len(faces)} (random, seed {args.seed})" if len(images) < len(faces)
                   else f"all {len(faces)}"})
    _write_json(result, args.json)
    return result


def _pipeline_labels(args, faces) -> tuple[np.ndarray, np.ndarray]:
    """The faces and the answers they are scored against: FER2013's labels, or (``--labels ferplus``) the FER+
    annotators' majority, keeping only faces with a unique majority."""
    if getattr(args, "labels", "fer2013") != "ferplus":
        return faces.images, faces.labels.astype(np.int64)
    votes = ferplus_votes_for(args, faces)
    if votes is None:
        raise DataError("--labels ferplus needs the FER+ votes: pass --ferplus FILE aligned with --data")
    majority = votes.majority()
    keep = majority >= 0
    return faces.images[keep], majority[keep]


def ferplus_votes_for(args, faces):
    """FER+ votes aligned with ``faces``: from ``--ferplus``, or the shared file when ``--data`` is the shared
    fer2013.csv.gz (its rows are the ones FER+ was joined to); None otherwise."""
    from realtime.paths import fer2013_csv

    from .ferplus import Votes, default_path, read_votes
    path = getattr(args, "ferplus", None)
    if path is None and Path(args.data).resolve() == fer2013_csv().resolve() and default_path().is_file():
        path = default_path()
    if not path:
        return None
    rows = faces.lines.astype(np.int64) - 2
    votes = read_votes(path, max(args.n_rows, int(rows.max()) + 1))
    return Votes(votes.counts[rows], votes.source)


def consensus_metrics(probs: np.ndarray, votes) -> dict:
    """The model against the annotators: majority accuracy, macro-F1, per class, confusion matrix (faces with a
    unique majority), mean agreement and cross-entropy to the votes (every face with emotion votes)."""
    from .ferplus import metrics as ferplus_metrics
    dist, maj = votes.distribution(), votes.majority()
    clear = maj >= 0
    cm = confusion_matrix(maj[clear], probs[clear].argmax(1), len(CLASSES))
    out = summarize(cm, CLASSES)
    out.update(ferplus_metrics(probs, dist, maj))
    out["most_confused"] = most_confused(cm, CLASSES)
    return out


def run_evaluate(args) -> dict:
    faces = _labelled_faces(args)
    model = Path(args.model) if args.model else DEFAULT_MODEL
    result, probs = evaluate_faces(faces.images, faces.labels.astype(np.int64), model, tta=args.tta)
    result.update({"data": str(args.data), "usage": args.usage or "all", "model": str(model),
                   "question": "how often the model gives FER2013's own label"})
    votes = ferplus_votes_for(args, faces)
    if votes is not None:
        result["ferplus"] = consensus_metrics(probs, votes)
        result["ferplus"]["question"] = "how often the model gives the answer most of 10 annotators gave (FER+)"
    _write_json(result, args.json)
    cm_png = Path(args.cm_png) if args.cm_png else (Path(args.json).with_suffix(".png") if args.json else None)
    if cm_png:
        plot_confusion(np.array(result["confusion_matrix"]), cm_png,
                       f"{Path(model).name} on {Path(args.data).name} ({result['usage']}, n={result['n']}"
                       f"{', TTA' if args.tta else ''}): acc {result['accuracy']:.3f}")
        log.info("confusion matrix written to %s", cm_png)
    return result
