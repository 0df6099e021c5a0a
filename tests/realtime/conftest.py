"""Fixtures for the real-time core tests: models, FER faces, scenes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
REAL_MODEL = REPO / "onnx" / "emotion.onnx"


@pytest.fixture(scope="session")
def standin_model(tmp_path_factory) -> Path:
    from realtime.research.devmodel import write_standin_model

    return write_standin_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="session")
def answer_model(standin_model) -> Path:
    """The trained model when it exists (known-answer tests), else the stand-in."""
    if REAL_MODEL.is_file() and REAL_MODEL.with_suffix(".json").is_file():
        return REAL_MODEL
    return standin_model


@pytest.fixture(scope="session")
def fer_faces() -> tuple[np.ndarray, np.ndarray]:
    from realtime.research.ferdata import fer_csv_path, load_fer_faces

    if not fer_csv_path().is_file():
        pytest.skip(f"FER2013 CSV not available at {fer_csv_path()}")
    return load_fer_faces("PublicTest", limit=80)


@pytest.fixture(scope="session")
def pipeline_config(standin_model):
    from realtime.config import PipelineConfig

    return PipelineConfig(model_path=str(standin_model))
