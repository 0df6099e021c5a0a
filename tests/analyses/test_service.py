"""portal/analyses/service.py without HTTP or Gradio: one service records, analyses and deletes a photo
for the upload tab, the live page, the API and photo batches (issue 19)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

import db
from portal.analyses import service
from portal.analyses.settings import AnalysisSettings
from portal.analyses.storage import gradio_cache_dir
from realtime.research.scenes import real_photo


@pytest.fixture
def ctx(tmp_path, model_path):
    db.init(str(tmp_path / "data" / "app.sqlite3"))
    with db.connection():
        db.create_user("ann", "ann@example.org", "h")
    settings = AnalysisSettings(model_path=model_path, warm_up=False, max_upload_bytes=2 * 1024 * 1024)
    yield service.Analyses(data_dir=tmp_path / "data", settings=settings)
    db.database.obj.close()


def _owner() -> int:
    with db.connection():
        return db.get_user_by_username("ann").id


def _png() -> bytes:
    return cv2.imencode(".png", cv2.cvtColor(real_photo("astronaut"), cv2.COLOR_RGB2BGR))[1].tobytes()


def test_a_photo_from_bytes_is_recorded_with_its_files_and_deleted_with_every_copy(ctx):
    out = service.analyse_photo(ctx, _owner(), _png(), title="Astronaut", exhibit="Hall 1")
    comp = out.computation
    assert comp["faces_found"] == 1 and comp["title"] == "Astronaut" and comp["kind"] == "upload"
    files = [ctx.data_dir / p for p in (db.Computation.get_by_id(comp["id"]).original_path,
                                        db.Computation.get_by_id(comp["id"]).annotated_path)]
    gradio_copy = gradio_cache_dir(ctx.data_dir) / "abc" / out.image_path.name  # what Gradio keeps of it
    gradio_copy.parent.mkdir(parents=True)
    gradio_copy.write_bytes(out.image_path.read_bytes())
    assert all(f.is_file() for f in files) and out.pdf_path.is_file() and out.json_path.is_file()
    with db.connection():
        removed = service.delete(ctx.data_dir, _owner(), comp["id"])  # 2 images, the downloads folder, 1 copy
        assert db.get_computation(_owner(), comp["id"]) is None
    assert removed == 4 and not any(f.exists() for f in files)
    assert not out.pdf_path.exists() and not out.image_path.exists() and not gradio_copy.exists()
    with db.connection():
        assert service.delete(ctx.data_dir, _owner(), comp["id"]) is None  # gone, or never theirs: None


@pytest.mark.parametrize("source, message", [
    (b"x" * (2 * 1024 * 1024 + 1), "The file is too large (2.0 MB); the limit is 2 MB."),
    (b"not an image at all", "This file cannot be analysed"),
])
def test_refused_photos_say_why_and_store_nothing(ctx, source, message):
    with pytest.raises(service.AppError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        service.analyse_photo(ctx, _owner(), source, title="Bad")
    with db.connection():
        assert db.count_computations(_owner()) == 0
    assert not (ctx.data_dir / "uploads").exists() or not any((ctx.data_dir / "uploads").rglob("*.jpg"))


def test_record_is_all_or_nothing(ctx):
    """When the row cannot be written (here: ``within`` fails in its transaction), both images go."""
    analysis = ctx.analyzer(live=False).analyze(real_photo("astronaut"))
    paths = ("uploads/x/a.jpg", "uploads/x/a.annotated.jpg")
    (ctx.data_dir / "uploads" / "x").mkdir(parents=True)

    def fail(comp):
        raise RuntimeError("batch item could not be added")

    with pytest.raises(RuntimeError, match="batch item"):
        service.record(ctx.data_dir, _owner(), "upload", analysis, analysis.image, analysis.draw(), paths,
                       {"title": "t", "exhibit": "", "notes": ""}, within=fail)
    assert not any((ctx.data_dir / p).exists() for p in paths)
    with db.connection():
        assert db.count_computations(_owner()) == 0


def test_model_version_names_the_model(ctx):
    analysis = ctx.analyzer(live=False).analyze(np.zeros((64, 64, 3), np.uint8))
    assert service.model_version(analysis) == f"{analysis.model['name']} {analysis.model['version']}"
