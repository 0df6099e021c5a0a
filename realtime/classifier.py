"""The emotion classifier: an ONNX model driven by the metadata JSON beside it.

The model travels with its preprocessing (CLIP style): class names, input size,
colour, scale, mean and std all come from ``<model>.json``; nothing about the
model is hard-coded here. ``train evaluate`` and the app both classify through
this module, so offline numbers and the product use the same code path.
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import numpy as np

from . import contract
from .contract import ModelError  # noqa: F401  (re-exported: callers catch classifier.ModelError)
from .paths import DEFAULT_MODEL  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)

_cache: dict[str, "EmotionClassifier"] = {}
_cache_lock = threading.Lock()


def _gpu_present() -> bool:
    """An NVIDIA driver is loaded (cheap check; CUDA libraries may still be missing)."""
    import os

    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidia0")


def _providers() -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if not _gpu_present():
        # onnxruntime-gpu lists CUDA even without a GPU, then logs an error when it fails to load
        available = [p for p in available if p not in ("CUDAExecutionProvider", "TensorrtExecutionProvider")]
    wanted = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    return wanted or available


class EmotionClassifier:
    """Classifies aligned gray faces. Thread-safe (onnxruntime sessions are)."""

    def __init__(self, model_path: str | Path, threads: int = 0):
        import onnxruntime as ort

        self.model_path = Path(model_path)
        self.contract = contract.load(self.model_path)  # checksum and format version verified
        self.metadata = self.contract.to_dict()
        inp = self.contract.input
        self.classes: list[str] = list(self.contract.classes)
        self.input_size: tuple[int, int] = (int(inp.height), int(inp.width))
        self.channels = int(inp.channels)
        self._scale = np.float32(inp.scale)
        self._mean = np.asarray(inp.mean, dtype=np.float32).reshape(1, -1, 1, 1)
        self._std = np.asarray(inp.std, dtype=np.float32).reshape(1, -1, 1, 1)
        self._softmax = self.contract.output.get("kind", "probabilities") == "logits"
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(self.model_path), sess_options=opts, providers=_providers())
        self._input_name = self.session.get_inputs()[0].name
        log.info("loaded model %s (%s) with %s", self.model_path.name, self.version, self.session.get_providers())

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", self.model_path.stem))

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unknown"))

    def preprocess(self, faces: np.ndarray) -> np.ndarray:
        """uint8 faces (N,H,W) at the model's input size -> normalised NCHW float32."""
        faces = np.asarray(faces)
        if faces.ndim == 2:
            faces = faces[None]
        if faces.ndim != 3 or faces.shape[1:] != self.input_size:
            raise ValueError(f"faces must have shape (N, {self.input_size[0]}, {self.input_size[1]}), got {faces.shape}")
        x = faces.astype(np.float32)[:, None] * self._scale
        if self.channels != 1:
            x = np.repeat(x, self.channels, axis=1)
        return np.ascontiguousarray((x - self._mean) / self._std, dtype=np.float32)

    def _run(self, x: np.ndarray) -> np.ndarray:
        out = self.session.run(None, {self._input_name: x})[0].astype(np.float32)
        if self._softmax:
            out = np.exp(out - out.max(axis=1, keepdims=True))
            out /= out.sum(axis=1, keepdims=True)
        return out

    def views(self, tta: bool | str) -> list[contract.View]:
        """The views of a TTA mode (:func:`realtime.contract.tta_views` with this model's shifts)."""
        return self.contract.views(tta)

    def predict(self, faces: np.ndarray, tta: bool | str = False, batch_size: int = 256) -> np.ndarray:
        """Probabilities (N, len(classes)) for uint8 gray faces (N,H,W).

        ``tta``: False (one view), True/"flip" (the face and its mirror image), or "full"
        (also the pixel shifts listed in the metadata, each mirrored); probabilities are averaged.
        """
        x = self.preprocess(faces)
        views = self.views(tta)
        pad = contract.view_pad(views)
        out = np.empty((len(x), len(self.classes)), dtype=np.float32)
        for start in range(0, len(x), batch_size):
            chunk = x[start:start + batch_size]
            padded = np.pad(chunk, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="edge") if pad else chunk
            h, w = chunk.shape[-2:]
            acc = np.zeros((len(chunk), len(self.classes)), dtype=np.float32)
            for view in views:
                rows, cols = contract.view_window(view, pad, h, w)
                cut = padded[..., rows, cols]
                acc += self._run(np.ascontiguousarray(cut[..., ::-1] if view.mirrored else cut))
            out[start:start + batch_size] = acc / len(views)
        return out


def load_classifier(model_path: str | Path | None = None, threads: int = 0) -> EmotionClassifier:
    """The classifier for ``model_path`` (default ``onnx/emotion.onnx``), loaded once per path."""
    path = str(Path(model_path or DEFAULT_MODEL).resolve())
    with _cache_lock:
        clf = _cache.get(path)
        if clf is None:
            clf = _cache[path] = EmotionClassifier(path, threads=threads)
        return clf


ENSEMBLE_FILE = "ensemble.json"


class Ensemble:
    """Averages the probabilities of several classifiers (same classes and input size)."""

    def __init__(self, members: list[EmotionClassifier]):
        if not members:
            raise ModelError("an ensemble needs at least one model")
        first = members[0]
        for m in members[1:]:
            if m.classes != first.classes or m.input_size != first.input_size:
                raise ModelError(f"{m.model_path.name}: classes/input size differ from {first.model_path.name}")
        self.members = members
        self.classes, self.input_size, self.metadata = first.classes, first.input_size, first.metadata

    @property
    def names(self) -> list[str]:
        return [m.model_path.name for m in self.members]

    def predict(self, faces: np.ndarray, tta: bool | str = False) -> np.ndarray:
        return np.mean([m.predict(faces, tta=tta) for m in self.members], axis=0)


def load_ensemble(model_path: str | Path | None = None, tta_ensemble: bool = False) -> Ensemble:
    """The model alone, or (``tta_ensemble``) the ensemble it belongs to.

    An ensemble is an ``ensemble.json`` beside the model, ``{"members": ["emotion.onnx", "other.onnx"]}``,
    that lists the model among its members; the members' probabilities are averaged.
    """
    path = Path(model_path or DEFAULT_MODEL)
    listing = path.parent / ENSEMBLE_FILE
    if tta_ensemble and listing.is_file():
        members = json.loads(listing.read_text()).get("members", [])
        if path.name in members:
            return Ensemble([load_classifier(path.parent / m) for m in members])
    return Ensemble([load_classifier(path)])
