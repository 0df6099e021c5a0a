"""A tiny stand-in emotion model (Flatten -> Gemm -> Softmax) with valid metadata.

For development and tests where the trained ``onnx/emotion.onnx`` isn't needed
or doesn't exist yet. Its weights are smooth random patterns, so its answers are
stable under small shifts of the crop -- they mean nothing about emotions.
``probabilities=`` builds a model that gives every face the same answer (no weights, the
bias = log p): e.g. a blend of fear and neutral, a face built to be doubtful;
``uncertainty=`` writes the metadata's uncertainty block.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .. import contract
from .fercsv import CLASSES as FER2013_CLASSES

CLASSES = list(FER2013_CLASSES)  # FER2013's label order (the dataset file's, realtime/research/fercsv.py)


def write_standin_model(directory: str | Path, name: str = "standin", size: int = 48, seed: int = 0,
                        probabilities: Sequence[float] | None = None, uncertainty: dict | None = None) -> Path:
    """Write ``<directory>/<name>.onnx`` and ``<name>.json``; return the ONNX path.
    ``probabilities`` (one per class, summing to 1): the answer for every face."""
    import cv2
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    patterns = []
    for _ in CLASSES:
        noise = rng.standard_normal((size, size)).astype(np.float32)
        smooth = cv2.GaussianBlur(noise, (0, 0), sigmaX=size / 8)
        patterns.append((smooth / (np.abs(smooth).max() + 1e-6)).ravel())
    weight = (np.stack(patterns, axis=1) * (0.4 / size)).astype(np.float32)  # (size*size, 7)
    bias = np.zeros(len(CLASSES), np.float32)
    if probabilities is not None:
        weight[:] = 0.0
        bias = np.log(np.clip(np.asarray(probabilities, np.float32), 1e-6, 1.0))
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["input"], ["flat"], axis=1),
            helper.make_node("Gemm", ["flat", "W", "b"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        ],
        "standin",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, size, size])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", len(CLASSES)])],
        [numpy_helper.from_array(weight, "W"), numpy_helper.from_array(bias, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = directory / f"{name}.onnx"
    onnx.save(model, str(path))
    meta = contract.ModelMetadata(
        name=f"{name}-gemm", version="0.0.0-standin", classes=list(CLASSES),
        input=contract.InputSpec(height=size, width=size),
        tta={"hflip": True},
        architecture={"name": "stand-in", "layers": "Flatten -> Gemm -> Softmax (smooth random weights)"},
        uncertainty=contract.parse_uncertainty(uncertainty, f"{name}.json") if uncertainty else None,
    )
    contract.write(path, meta)
    return path
