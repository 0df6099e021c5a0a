#!/usr/bin/env python3
"""Evaluate pip-installable facial-emotion packages on FER2013 PublicTest, offline.

Standalone script (not imported by the project).  Each package is run inside its
own virtualenv, because their dependencies conflict (tensorflow vs torch, numpy
versions, ...).  The script itself only needs numpy plus whatever the package
being evaluated needs.

Usage
-----
  # evaluate one package (run with that package's venv python):
  OMP_NUM_THREADS=1 CUDA_VISIBLE_DEVICES="" \
  /tmp/pkgvenv-fer/bin/python eval_packages.py /path/fer2013.csv.gz \
        --package fer --out /tmp/res-fer.json [--per-class K]

  # merge per-package result files into one list:
  python3 eval_packages.py /path/fer2013.csv.gz --merge /tmp/res-*.json \
        --out docs/results/packages.json

Protocol
--------
* All PublicTest rows (3,589) unless --per-class K is given, in which case a
  class-stratified sample of at most K faces per class (fixed seed) is used.
  The CSV is sorted by label, so "first N rows" is never used.
* The package's emotion classifier is called directly on the 48x48 face
  (its face detector is bypassed) wherever the package's API allows it.
  If a package insists on running its own detector, the face is upscaled to
  144x144 and padded, and faces where nothing was detected count as wrong;
  the detection rate is reported.
* Labels are mapped to the 7 FER2013 classes; labels with no FER2013
  counterpart (e.g. "contempt") are NOT remapped: such predictions count as
  wrong (documented per package in "label_mapping").
* Metrics: accuracy, macro-F1 over the 7 classes, per-class recall, n,
  ms per face (wall clock of the classification calls only, model loading
  excluded, one CPU thread, batch as noted per package).
* If the package cannot produce predictions offline (e.g. it downloads
  weights at first use), the exception is recorded instead of metrics.
"""
import argparse
import contextlib
import csv
import gzip
import io
import json
import os
import re
import sys
import time
import traceback

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
           "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

FER_CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
SEED = 0


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def load_split(csv_path, usage="PublicTest"):
    opener = gzip.open if csv_path.endswith(".gz") else open
    xs, ys = [], []
    with opener(csv_path, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Usage"] != usage:
                continue
            ys.append(int(row["emotion"]))
            xs.append(np.array(row["pixels"].split(), dtype=np.uint8).reshape(48, 48))
    return np.stack(xs), np.array(ys, dtype=np.int64)


def stratified(x, y, per_class):
    rng = np.random.default_rng(SEED)
    idx = []
    for c in range(7):
        ci = np.flatnonzero(y == c)
        idx.extend(rng.permutation(ci)[:per_class].tolist())
    idx = np.array(sorted(idx))
    return x[idx], y[idx]


# --------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------
def metrics(y, pred):
    """pred: FER class index, or -1 for 'no FER class' (contempt, no face...)."""
    y = np.asarray(y)
    pred = np.asarray(pred)
    acc = float(np.mean(pred == y))
    recalls, f1s = {}, []
    for c, name in enumerate(FER_CLASSES):
        tp = int(np.sum((pred == c) & (y == c)))
        n_true = int(np.sum(y == c))
        n_pred = int(np.sum(pred == c))
        rec = tp / n_true if n_true else 0.0
        prec = tp / n_pred if n_pred else 0.0
        f1 = 2 * prec * rec / (prec + rec) if (prec + rec) else 0.0
        recalls[name] = round(rec, 4)
        f1s.append(f1)
    cm = np.zeros((7, 8), dtype=int)  # last column = unmapped / no face
    for t, p in zip(y, pred):
        cm[t, p if p >= 0 else 7] += 1
    return {
        "accuracy": round(acc, 4),
        "macro_f1": round(float(np.mean(f1s)), 4),
        "per_class_recall": recalls,
        "confusion_matrix": {"rows_true": FER_CLASSES,
                             "cols_pred": FER_CLASSES + ["unmapped_or_no_face"],
                             "counts": cm.tolist()},
    }


def map_label(name, mapping):
    """Map a package label string to a FER index (-1 if unmappable)."""
    key = str(name).strip().lower()
    key = mapping.get(key, key)
    return FER_CLASSES.index(key) if key in FER_CLASSES else -1


COMMON_ALIASES = {"anger": "angry", "happiness": "happy", "sadness": "sad",
                  "surprised": "surprise", "fearful": "fear", "disgusted": "disgust",
                  "neutrality": "neutral"}


def gray_to_bgr(face):
    return np.repeat(face[:, :, None], 3, axis=2)


def upscale_pad(face, size=144, pad=48):
    """48x48 gray -> (size+2*pad)^2 BGR with a mid-gray/edge border for detectors."""
    import cv2
    big = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return gray_to_bgr(big)


def pkg_version(dist):
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:
        return None


# --------------------------------------------------------------------------
# adapters: each returns (info dict, predict(faces uint8 [n,48,48]) -> list[int])
# --------------------------------------------------------------------------
def adapter_fer(variant):
    try:
        from fer import FER  # the import shown in fer's README
    except ImportError:
        # fer 25.10.3's __init__ no longer re-exports FER
        from fer.fer import FER
    use_tflite = variant != "hdf5"
    det = FER(use_tflite=use_tflite, offsets=(0, 0))
    labels = FER._get_labels()

    def predict(faces):
        out = []
        for f in faces:
            # public API: detect_emotions(img, face_rectangles=...) skips the
            # Haar detector; the rectangle is the whole 48x48 crop, offsets 0.
            r = det.detect_emotions(gray_to_bgr(f), face_rectangles=[(0, 0, 48, 48)])
            if not r:
                out.append(-1)
                continue
            em = r[0]["emotions"]
            out.append(map_label(max(em, key=em.get), {}))
        return out

    info = {
        "package": "fer", "version": pkg_version("fer"),
        "model": "mini-Xception (Keras), %s weights shipped in the wheel, 64x64 gray input"
                 % ("quantized TFLite (default use_tflite=True)" if use_tflite else "float HDF5 (use_tflite=False)"),
        "label_mapping": "identity: its 7 labels %s are the FER2013 classes in the same order"
                         % [labels[i] for i in range(7)],
        "how_called": "FER(use_tflite=%s, offsets=(0,0)).detect_emotions(bgr48, face_rectangles=[(0,0,48,48)]) "
                      "- Haar face detector bypassed, whole crop resized to 64x64, one face per call" % use_tflite,
    }
    return info, predict


def adapter_hsemotion(variant):
    from hsemotion.facial_emotions import HSEmotionRecognizer
    # package default model is enet_b0_8_best_vgaf
    model_name = variant or HSEmotionRecognizer.__init__.__defaults__[0]
    rec = HSEmotionRecognizer(model_name=model_name, device="cpu")
    idx_to_class = dict(rec.idx_to_class)

    def predict(faces):
        out = []
        for f in faces:
            label, _ = rec.predict_emotions(gray_to_bgr(f)[:, :, ::-1].copy(), logits=True)
            out.append(map_label(label, COMMON_ALIASES))
        return out

    info = {
        "package": "hsemotion", "version": pkg_version("hsemotion"),
        "model": model_name,
        "label_mapping": "%s -> FER via lower-case aliases (Anger->angry, Happiness->happy, ...); "
                         "'Contempt' has no FER2013 class and counts as wrong" % sorted(idx_to_class.values()),
        "how_called": "HSEmotionRecognizer.predict_emotions(rgb48) on the gray crop replicated to 3 channels; no detector",
    }
    return info, predict


def adapter_emotiefflib(variant):
    from emotiefflib.facial_analysis import EmotiEffLibRecognizer, get_model_list
    engine = "onnx"
    model_name = variant or get_model_list()[0]
    rec = EmotiEffLibRecognizer(engine=engine, model_name=model_name, device="cpu")
    idx_to_class = dict(rec.idx_to_emotion_class) if hasattr(rec, "idx_to_emotion_class") else {}

    def predict(faces):
        out = []
        for f in faces:
            labels, _ = rec.predict_emotions([gray_to_bgr(f)], logits=True)
            out.append(map_label(labels[0], COMMON_ALIASES))
        return out

    info = {
        "package": "emotiefflib", "version": pkg_version("emotiefflib"),
        "model": "%s (%s engine)" % (model_name, engine),
        "label_mapping": "%s -> FER via lower-case aliases; 'Contempt' counts as wrong"
                         % sorted(idx_to_class.values()),
        "how_called": "EmotiEffLibRecognizer.predict_emotions([rgb48]); no detector",
    }
    return info, predict


def adapter_rmn(variant):
    from rmn import RMN
    m = RMN(face_detector=False) if "face_detector" in RMN.__init__.__code__.co_varnames else RMN()

    def predict(faces):
        out = []
        for f in faces:
            label, _, _ = m.detect_emotion_for_single_face_image(gray_to_bgr(f))
            out.append(map_label(label, COMMON_ALIASES))
        return out

    info = {
        "package": "rmn", "version": pkg_version("rmn"),
        "model": "Residual Masking Network (ResMaskNet)",
        "label_mapping": "identity on lower-case names",
        "how_called": "RMN().detect_emotion_for_single_face_image(bgr48); no detector",
    }
    return info, predict


def adapter_facial_emotion_recognition(variant):
    import torch
    from facial_emotion_recognition import EmotionRecognition
    # The wheel's model.pkl was saved from CUDA tensors and the package calls
    # torch.load() without map_location, so EmotionRecognition(device="cpu")
    # raises on a CPU-only machine. Workaround: default map_location to CPU.
    _orig_load = torch.load

    def _cpu_load(*a, **kw):
        kw.setdefault("map_location", "cpu")
        return _orig_load(*a, **kw)

    torch.load = _cpu_load
    try:
        er = EmotionRecognition(device="cpu")
    finally:
        torch.load = _orig_load
    names = er.emotions
    pipeline = variant == "pipeline"

    def predict(faces):
        out = []
        with torch.no_grad():
            for f in faces:
                if not pipeline:
                    # private classifier entry point: gray crop -> 48x48 -> NetworkV2
                    out.append(map_label(er._predict(f), {}))
                    continue
                # what recognise_emotion() does, minus the drawing: MTCNN on the
                # upscaled+padded face, classify the first detected box
                img = upscale_pad(f)
                gray = img[:, :, 0]
                boxes, _ = er.mtcnn.detect(img)
                if boxes is None:
                    out.append(-1)
                    continue
                x1, y1, x2, y2 = [int(round(v)) for v in boxes[0]]
                crop = gray[max(0, y1):y2, max(0, x1):x2]
                out.append(map_label(er._predict(crop), {}) if crop.size else -1)
        return out

    info = {
        "package": "facial-emotion-recognition", "version": pkg_version("facial-emotion-recognition"),
        "model": "NetworkV2 small CNN (4 conv + 2 FC), 48x48 gray input, weights shipped in the wheel",
        "label_mapping": "identity: %s are the FER2013 classes in the same order" % [names[i] for i in range(7)],
        "how_called": ("EmotionRecognition(device='cpu')._predict(gray48) - private method, because the public "
                       "recognise_emotion() only returns an annotated frame, not the label; MTCNN detector bypassed"
                       if not pipeline else
                       "MTCNN detect on 48x48 upscaled to 144x144 + 48 px replicate padding, then _predict on the "
                       "first box (replicates recognise_emotion()); no face -> counted wrong"),
    }
    return info, predict


def adapter_pyfeat(variant):
    # py-feat 2.x: the README's `from feat import Detector` no longer exists;
    # Detectorv1 is the classic (face -> landmarks -> resmasknet emotion) pipeline.
    from feat import Detectorv1
    det = Detectorv1(emotion_model=variant or "resmasknet", device="cpu")

    def predict(faces):
        raise NotImplementedError("not reached offline: model construction downloads weights")

    info = {"package": "py-feat", "version": pkg_version("py-feat"), "model": variant or "resmasknet",
            "label_mapping": "n/a", "how_called": "Detectorv1(emotion_model='resmasknet')"}
    return info, predict


def adapter_deepface(variant):
    from deepface import DeepFace

    def predict(faces):
        out = []
        for f in faces:
            r = DeepFace.analyze(gray_to_bgr(f), actions=["emotion"], detector_backend="skip",
                                 enforce_detection=False, silent=True)
            out.append(map_label(r[0]["dominant_emotion"], COMMON_ALIASES))
        return out

    predict(np.zeros((1, 48, 48), np.uint8))  # triggers the weight loading
    info = {"package": "deepface", "version": pkg_version("deepface"),
            "model": "DeepFace facial_expression_model", "label_mapping": "identity",
            "how_called": "DeepFace.analyze(bgr48, actions=['emotion'], detector_backend='skip')"}
    return info, predict


ADAPTERS = {
    "fer": adapter_fer,
    "hsemotion": adapter_hsemotion,
    "emotiefflib": adapter_emotiefflib,
    "rmn": adapter_rmn,
    "facial-emotion-recognition": adapter_facial_emotion_recognition,
    "py-feat": adapter_pyfeat,
    "deepface": adapter_deepface,
}


# Hand-written context added when merging: what each package claims, and caveats
# found while reading its code.  "claimed" figures are NOT measured here.
ANNOTATIONS = {
    "fer": {
        "claimed": "66% 'fer2013 emotion classification test accuracy' for the mini-Xception it ships "
                   "(upstream oarriaga/face_classification README; fer's own README gives no number). "
                   "Upstream training code loads all 35,887 rows in file order and uses the last 20% "
                   "(= PublicTest + PrivateTest) as the validation set, so that 66% is on PublicTest+PrivateTest.",
        "notes": "Weights ship inside the wheel (fer/data/emotion_model.hdf5 and a quantized .tflite); runs fully "
                 "offline. CAVEAT: upstream used PublicTest+PrivateTest as the validation set for checkpoint "
                 "selection / early stopping / LR schedule (not for gradient updates), so PublicTest accuracy is "
                 "mildly optimistic for this model. fer 25.10.3: `from fer import FER` (README usage) raises "
                 "ImportError; `from fer.fer import FER` works. Installs tensorflow 2.21 + torch 2.2 "
                 "(facenet-pytorch for optional MTCNN).",
    },
    "facial-emotion-recognition": {
        "claimed": "no accuracy in the PyPI description; the shipped model.pkl prints '[*] Accuracy: 0.9566' "
                   "when loaded - split/dataset not stated (almost certainly not FER2013 test accuracy, "
                   "given the 0.51 measured here).",
        "notes": "Weights ship inside the wheel (model.pkl, 33 MB). Does NOT run out of the box on a CPU-only "
                 "machine: model.pkl holds CUDA tensors and the package calls torch.load without map_location "
                 "(RuntimeError 'Attempting to deserialize object on a CUDA device'); measured with torch.load "
                 "patched to map_location='cpu'. The public API recognise_emotion() only returns an annotated "
                 "image, so the label was read via the private _predict(). Latest release 0.3.4 (2020). "
                 "Torch 2.14.1 (CPU execution) was used because the torchvision wheel pip resolved did not match "
                 "the local CPU torch.",
    },
    "hsemotion": {
        "claimed": "enet_b0_8_best_vgaf (the package default): AffectNet 8-class 61.32%, 7-class 64.57% "
                   "(authors' README, AffectNet validation set used as test); no FER2013 figure claimed.",
        "notes": "Cannot run offline: HSEmotionRecognizer() downloads the .pt weights from "
                 "github.com/HSE-asavchenko/face-emotion-recognition (models/affectnet_emotions/...?raw=true) at "
                 "first use into ~/.hsemotion. 8-class models would also predict 'Contempt' (no FER2013 class).",
        "label_mapping": "would be: Anger->angry, Disgust, Fear, Happiness->happy, Neutral, Sadness->sad, "
                         "Surprise; Contempt -> counted wrong",
    },
    "emotiefflib": {
        "claimed": "same HSEmotion EfficientNet models as hsemotion (AffectNet 8-class 61.32% / 7-class 64.57% "
                   "for enet_b0_8_best_vgaf, per the upstream README); no FER2013 figure claimed.",
        "notes": "Cannot run offline: EmotiEffLibRecognizer() downloads weights from "
                 "github.com/sb-ai-lab/EmotiEffLib (models/affectnet_emotions/onnx/enet_b0_8_best_vgaf.onnx?raw=true) "
                 "at first use into ~/.emotiefflib (both the onnx and torch engines).",
        "label_mapping": "would be as hsemotion (8 AffectNet classes; Contempt -> counted wrong)",
    },
    "rmn": {
        "claimed": "ResMaskingNet 74.14% on FER2013 (README 'Benchmarking on FER2013' table; the README does not "
                   "name the split - the authors' ICPR 2020 paper reports it on the FER2013 test set), "
                   "76.82% for a 6-model ensemble.",
        "notes": "Cannot run offline: RMN() calls huggingface_hub.hf_hub_download for "
                 "huggingface.co/phamquiluan/ResidualMaskingNetwork (Z_resmasking_dropout1_rot30_2019Nov30_13.32 "
                 "checkpoint, plus a YuNet face-detector checkpoint) -> LocalEntryNotFoundError after 5 retries.",
        "label_mapping": "would be identity (its FER_2013_EMO_DICT uses the 7 FER2013 classes)",
    },
    "py-feat": {
        "claimed": "no FER2013 PublicTest accuracy found in the README (its default emotion model is a "
                   "ResMaskNet re-hosted on the py-feat HF hub).",
        "notes": "Cannot run offline: Detectorv1() downloads all models from huggingface.co/py-feat/* at "
                 "construction (first failure: py-feat/retinaface_r34 model.safetensors). Also: py-feat 2.1.5 "
                 "no longer exports `Detector` (README usage); only Detectorv1 / Detectorv2.",
        "label_mapping": "would be: anger, disgust, fear, happiness, sadness, surprise, neutral -> FER (identity "
                         "after aliasing)",
    },
    "deepface": {
        "claimed": "no accuracy figure for the emotion model in the deepface README (not checked further).",
        "notes": "Cannot run offline: DeepFace.analyze(actions=['emotion'], detector_backend='skip') downloads "
                 "facial_expression_model_weights.onnx from github.com/serengil/deepface_models/releases "
                 "(fallback huggingface.co/serengil/deepface) into ~/.deepface/weights. deepface 0.0.103 also "
                 "misses a dependency: importing it fails with 'No module named werkzeug' until werkzeug is "
                 "installed by hand.",
        "label_mapping": "would be identity (angry, disgust, fear, happy, sad, surprise, neutral)",
    },
}

FIELDS = ["package", "version", "model", "runs_offline", "measured", "split", "n", "accuracy",
          "macro_f1", "per_class_recall", "ms_per_face", "label_mapping", "notes", "claimed"]


def merge(results):
    by_pkg = {}
    for r in results:
        by_pkg.setdefault(r["package"], []).append(r)
    out = []
    for pkg, runs in by_pkg.items():
        runs.sort(key=lambda r: r.get("variant") is not None)
        main, others = runs[0], runs[1:]
        ann = ANNOTATIONS.get(pkg, {})
        e = {k: main.get(k) for k in FIELDS}
        e["split"] = "PublicTest"
        e["notes"] = ann.get("notes", "")
        e["claimed"] = ann.get("claimed", "")
        if not e.get("label_mapping"):
            e["label_mapping"] = ann.get("label_mapping", "")
        if main.get("measured"):
            e["how_called"] = main.get("how_called")
            e["sample"] = main.get("sample")
            e["confusion_matrix"] = main.get("confusion_matrix")
        else:
            for k in ("n", "accuracy", "macro_f1", "per_class_recall", "ms_per_face"):
                e[k] = None
            e["error"] = main.get("error")
            e["urls_seen"] = main.get("urls_seen")
        for o in others:
            if o.get("variant") == "pipeline" and o.get("n"):
                # only 'no face' produces -1 there (the label mapping is total)
                o["detection_rate"] = round(1 - o["no_face_or_unmapped"] / o["n"], 4)
        if others:
            e["variants"] = [{k: o.get(k) for k in ("variant", "model", "how_called", "n", "accuracy", "macro_f1",
                                                    "per_class_recall", "ms_per_face", "no_face_or_unmapped",
                                                    "detection_rate")} for o in others]
        out.append(e)
    order = {p: i for i, p in enumerate(ANNOTATIONS)}
    out.sort(key=lambda e: (not e["measured"], order.get(e["package"], 99)))
    return out


def short_error(exc):
    msg = "%s: %s" % (type(exc).__name__, exc)
    return msg if len(msg) < 600 else msg[:600] + " ..."


def evaluate(args):
    x, y = load_split(args.csv)
    sample_note = "all %d PublicTest rows" % len(y)
    if args.per_class:
        x, y = stratified(x, y, args.per_class)
        sample_note = ("class-stratified sample, at most %d per class (seed %d), %d faces"
                       % (args.per_class, SEED, len(y)))
    if args.limit_debug:
        x, y = stratified(x, y, args.limit_debug)
        sample_note = "DEBUG sample %d" % len(y)
    res = {"package": args.package, "variant": args.variant, "split": "PublicTest", "measured": False}
    buf = io.StringIO()
    try:
        # stdout captured so that "Downloading X from URL" messages are recorded
        with contextlib.redirect_stdout(buf):
            info, predict = ADAPTERS[args.package](args.variant)
            # warm-up (not timed): first call may build graphs / load weights lazily
            predict(x[:2])
        sys.stdout.write(buf.getvalue())
    except Exception as exc:  # cannot even produce a prediction
        sys.stdout.write(buf.getvalue())
        text = buf.getvalue() + "\n" + traceback.format_exc()
        urls = sorted(set(re.findall(r"https?://[^\s'\",)>]+", text)))
        res.update({"version": pkg_version(args.package), "runs_offline": False,
                    "error": short_error(exc), "urls_seen": urls,
                    "stdout_during_setup": buf.getvalue()[-800:],
                    "traceback_tail": traceback.format_exc().strip().splitlines()[-6:]})
        print(json.dumps(res, indent=1))
        return res
    res.update(info)
    t0 = time.perf_counter()
    pred = []
    bs = 64
    for i in range(0, len(y), bs):
        pred.extend(predict(x[i:i + bs]))
        if (i // bs) % 10 == 0:
            done = min(i + bs, len(y))
            el = time.perf_counter() - t0
            print("  %d/%d  %.1f ms/face  acc so far %.3f" % (
                done, len(y), 1000 * el / done, np.mean(np.array(pred) == y[:done])),
                file=sys.stderr, flush=True)
    el = time.perf_counter() - t0
    pred = np.array(pred)
    res.update(metrics(y, pred))
    res.update({"runs_offline": True, "measured": True, "n": int(len(y)),
                "ms_per_face": round(1000 * el / len(y), 2),
                "sample": sample_note,
                "no_face_or_unmapped": int(np.sum(pred < 0)),
                "stdout_during_setup": buf.getvalue()[-800:]})
    print(json.dumps({k: v for k, v in res.items() if k != "confusion_matrix"}, indent=1))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", help="path to fer2013.csv(.gz)")
    ap.add_argument("--package", choices=sorted(ADAPTERS))
    ap.add_argument("--variant", default=None, help="package-specific model variant")
    ap.add_argument("--per-class", type=int, default=0, help="stratified sample size per class")
    ap.add_argument("--limit-debug", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--merge", nargs="*", help="merge these result JSON files (list output)")
    ap.add_argument("--out", help="write JSON here")
    args = ap.parse_args()
    if args.merge:
        out = []
        for p in args.merge:
            with open(p) as fh:
                d = json.load(fh)
            out.extend(d if isinstance(d, list) else [d])
        res = merge(out)
    else:
        res = evaluate(args)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
