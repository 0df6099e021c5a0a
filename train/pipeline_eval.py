"""Whole-pipeline accuracy: FER faces as the app sees them, beside the classifier alone.

Each face is upscaled (INTER_CUBIC) to 120-200 px and placed, with a little replicated context
fading into the background, at a random place in a 480x360 image with a plain or textured
background; the app's own code (``realtime.Analyzer``: detector, close-up pass, calibrated crop,
classifier with the metadata's TTA) analyses the image and its largest face is the answer. "No face"
counts as wrong. The classifier-only number runs the same classifier (same TTA) on the raw 48x48
faces. ``python -m train evaluate --pipeline --data ... --usage PublicTest [--limit 1000]``.

``--rolls 0,15,-15,30,-30`` (:func:`evaluate_rolls`): the same placed faces turned by each roll (degrees,
counter-clockwise on screen, about the face's centre), each classified with the upright correction
(crops turned from the eye keypoints, the app's default) and without it (axis-aligned crops).
"""
from __future__ import annotations

import logging
import time
from dataclasses import replace

import cv2
import numpy as np

from realtime.config import PipelineConfig
from realtime.boxes import iou
from realtime.pipeline import Analyzer
from realtime.research.scenes import background, composite

from .data import CLASSES
from .metrics import confusion_matrix, summarize

log = logging.getLogger(__name__)

CANVAS = (360, 480)  # height, width
FACE_PX = (120, 200)
BACKGROUNDS = ("plain", "brick", "grass", "gravel", "coffee")
CONTEXT = 0.25  # replicated edge around the 48x48 frame, fading into the background (a head goes on)
NO_FACE = len(CLASSES)  # the extra "prediction" of an image without a face


def placed_face(face: np.ndarray, i: int, seed: int, backgrounds: dict[str, np.ndarray]):
    """Image ``i``: ``face`` upscaled to 120-200 px at a random place; returns (rgb, frame x, y, s, s)."""
    rng = np.random.default_rng([seed, i])
    size = int(rng.integers(FACE_PX[0], FACE_PX[1] + 1))
    name = BACKGROUNDS[i % len(BACKGROUNDS)]
    bg = backgrounds.get(name)
    if bg is None:
        bg = np.full(CANVAS + (3,), int(rng.integers(40, 216)), np.uint8)
    scene = composite(face[None], [size], bg, seed=int(rng.integers(2**31)), context=CONTEXT)
    return scene.rgb, scene.frames[0]


def rolled(rgb: np.ndarray, frame: tuple[int, int, int, int], roll: float) -> np.ndarray:
    """``rgb`` turned by ``roll`` degrees (counter-clockwise on screen) about the centre of the placed
    face's ``frame``; edges reflected (the face and its context stay inside: they are placed with a margin)."""
    if not roll:
        return rgb
    x, y, s, _ = frame
    M = cv2.getRotationMatrix2D((x + (s - 1) / 2.0, y + (s - 1) / 2.0), float(roll), 1.0)  # pixel centres
    return cv2.warpAffine(rgb, M, rgb.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _largest(faces):
    return max(faces, key=lambda f: f.box[2] * f.box[3]) if faces else None


def _answer(analyzer: Analyzer, rgb: np.ndarray, closeup: bool):
    """(predicted class index or NO_FACE, the face's detector box or None)."""
    dets, spec = analyzer.find_faces(rgb, closeup=closeup)
    faces, _ = analyzer.classify_detections(rgb, dets, spec.crop)
    face = _largest(faces)
    if face is None:
        return NO_FACE, None
    return CLASSES.index(face.emotion), face.box


def _summary(labels: np.ndarray, pred: np.ndarray, right_place: int | None = None) -> dict:
    cm = confusion_matrix(labels, pred, len(CLASSES) + 1)
    s = summarize(cm, list(CLASSES) + ["no face"])  # macro-F1 over the 7 emotions (no-face has no support)
    s["per_class"].pop("no face")
    found = pred != NO_FACE
    s.update(no_face=int((~found).sum()), no_face_share=float((~found).mean()),
             accuracy_on_found=float((pred[found] == labels[found]).mean()) if found.any() else 0.0)
    if right_place is not None:
        s["box_on_the_face"] = right_place
    return s


def evaluate_pipeline(images: np.ndarray, labels: np.ndarray, model_path=None, detector: str | None = None,
                      seed: int = 0) -> dict:
    """Accuracy, macro-F1 and no-face share of the app's pipeline (with and without the close-up
    pass) and of the classifier alone, on the same faces."""
    config = PipelineConfig(model_path=str(model_path) if model_path else None,
                            **({"detector": detector} if detector else {}))
    analyzer = Analyzer(config)
    if list(analyzer.classifier.classes) != list(CLASSES):
        raise ValueError(f"model classes {analyzer.classifier.classes} are not FER2013's {list(CLASSES)}")
    bgs = {n: background(n, CANVAS) for n in BACKGROUNDS if n != "plain"}
    preds = {False: np.empty(len(images), np.int64), True: np.empty(len(images), np.int64)}
    on_face = {False: 0, True: 0}
    t0 = time.perf_counter()
    for i, face in enumerate(images):
        rgb, frame = placed_face(face, i, seed, bgs)
        for closeup in (False, True):
            if closeup and preds[False][i] != NO_FACE:  # the pass only runs when nothing was found
                preds[True][i], box = preds[False][i], box
            else:
                preds[closeup][i], box = _answer(analyzer, rgb, closeup)
            on_face[closeup] += box is not None and iou(box, frame) >= 0.3
        if (i + 1) % 250 == 0:
            log.info("pipeline evaluation: %d/%d images", i + 1, len(images))
    seconds = time.perf_counter() - t0
    raw = analyzer.classifier.predict(images, tta=analyzer.tta).argmax(1)
    return {
        "n": int(len(images)), "detector": analyzer.spec.name, "tta_hflip": bool(analyzer.tta),
        "model": {"name": analyzer.classifier.name, "version": analyzer.classifier.version},
        "placement": {"canvas": list(CANVAS[::-1]), "face_px": list(FACE_PX), "backgrounds": list(BACKGROUNDS),
                      "context": CONTEXT, "seed": seed, "upscale": "INTER_CUBIC"},
        "pipeline": _summary(labels, preds[True], on_face[True]),
        "pipeline_without_closeup": _summary(labels, preds[False], on_face[False]),
        "classifier_only": _summary(labels, raw),
        "ms_per_image": round(1000 * seconds / max(len(images), 1), 1),
    }


def format_pipeline(r: dict) -> str:
    rows = [("whole pipeline", r["pipeline"]), ("whole pipeline, no close-up pass", r["pipeline_without_closeup"]),
            ("classifier only (raw 48x48 faces)", r["classifier_only"])]
    lines = [f"n = {r['n']}   detector {r['detector']}   mirror TTA {r['tta_hflip']}   {r['ms_per_image']} ms per image",
             "", f"{'':<36}{'accuracy':>10}{'macro-F1':>10}{'no face':>10}{'acc. found':>12}"]
    for name, s in rows:
        lines.append(f"{name:<36}{s['accuracy']:>10.4f}{s['macro_f1']:>10.4f}{s['no_face_share']:>10.2%}"
                     f"{s['accuracy_on_found']:>12.4f}")
    return "\n".join(lines)


def _roll_answers(analyzers: dict[bool, Analyzer], rgb: np.ndarray) -> tuple[dict[bool, int], float | None]:
    """The largest face's class with and without the upright correction (one detection for both),
    and the roll the eye keypoints gave (None without a face)."""
    dets, spec = analyzers[True].find_faces(rgb)
    if not dets:
        return {True: NO_FACE, False: NO_FACE}, None
    det = max(dets, key=lambda d: d.box[2] * d.box[3])
    out, roll = {}, None
    for upright, analyzer in analyzers.items():
        (face,), _ = analyzer.classify_detections(rgb, [det], spec.crop)
        out[upright] = CLASSES.index(face.emotion)
        roll = face.roll if upright else roll
    return out, roll


def evaluate_rolls(images: np.ndarray, labels: np.ndarray, rolls: list[float], model_path=None,
                   detector: str | None = None, seed: int = 0) -> dict:
    """The whole pipeline (close-up pass included) on the placed faces turned by each roll, with and
    without the upright correction; per roll also how far the keypoints' roll estimate was off."""
    config = PipelineConfig(model_path=str(model_path) if model_path else None,
                            **({"detector": detector} if detector else {}))
    base = Analyzer(config)
    analyzers = {True: base, False: Analyzer(replace(config, upright=False), classifier=base.classifier,
                                             detector=base.detector)}
    bgs = {n: background(n, CANVAS) for n in BACKGROUNDS if n != "plain"}
    out: dict = {"n": int(len(images)), "detector": base.spec.name, "tta_hflip": bool(base.tta),
                 "model": {"name": base.classifier.name, "version": base.classifier.version}, "rolls": {}}
    t0 = time.perf_counter()
    for roll in rolls:
        preds = {True: np.empty(len(images), np.int64), False: np.empty(len(images), np.int64)}
        errors = []
        for i, face in enumerate(images):
            rgb, frame = placed_face(face, i, seed, bgs)
            answers, estimate = _roll_answers(analyzers, rolled(rgb, frame, roll))
            for upright in (True, False):
                preds[upright][i] = answers[upright]
            if estimate is not None:
                errors.append(abs(estimate + roll))  # turned counter-clockwise by r: the eyes say -r
        out["rolls"][f"{roll:g}"] = {"upright": _summary(labels, preds[True]),
                                     "axis_aligned": _summary(labels, preds[False]),
                                     "roll_error_deg_median": round(float(np.median(errors)), 2) if errors else None}
        log.info("pipeline evaluation at roll %g: done", roll)
    out["ms_per_image"] = round(1000 * (time.perf_counter() - t0) / max(len(images) * len(rolls), 1), 1)
    return out


def format_rolls(r: dict) -> str:
    lines = [f"n = {r['n']} per roll   detector {r['detector']}   mirror TTA {r['tta_hflip']}   "
             f"{r['ms_per_image']} ms per image", "",
             f"{'roll':>6}{'upright acc.':>14}{'axis-aligned acc.':>19}{'no face':>10}{'roll error (median)':>21}"]
    for roll, row in r["rolls"].items():
        err = row["roll_error_deg_median"]
        lines.append(f"{roll:>6}{row['upright']['accuracy']:>14.4f}{row['axis_aligned']['accuracy']:>19.4f}"
                     f"{row['upright']['no_face_share']:>10.2%}{'' if err is None else f'{err:.1f} deg':>21}")
    return "\n".join(lines)


def rolls_markdown(r: dict) -> str:
    """The roll table for REPORT / docs (``docs/results/pipeline_rolls.md``)."""
    model = r["model"]
    lines = [f"**Faces at a roll** (`train evaluate --pipeline --rolls`): {r['n']} PublicTest faces placed in photos "
             f"as above, the same faces turned by each roll about their centre; detector `{r['detector']}`, model "
             f"{model['name']} {model['version']}. *Upright*: each crop turned from the detector's eye keypoints so "
             "the eye line is level (the app's default; a roll the eyes put under 3° or over 60° is left alone, and counts as "
             "0° in the error column); *axis-aligned*: without it. No face counts as wrong. Scored against "
             + ("the FER+ annotators' majority." if r.get("labels") == "ferplus" else "FER2013's labels."), "",
             "| roll | accuracy, upright | accuracy, axis-aligned | no face | roll read from the eyes: median error |",
             "|---|---|---|---|---|"]
    for roll, row in r["rolls"].items():
        err = row["roll_error_deg_median"]
        lines.append(f"| {roll}° | {row['upright']['accuracy']:.1%} | {row['axis_aligned']['accuracy']:.1%} | "
                     f"{row['upright']['no_face_share']:.1%} | {'-' if err is None else f'{err:.1f}°'} |")
    return "\n".join(lines) + "\n"
