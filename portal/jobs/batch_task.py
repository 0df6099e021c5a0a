"""The photo-batch job: one computation per photo (listed in History like any upload) and a
summary CSV (one row per face, or per photo without a face / with an error; ``uncertain`` is 1 for a
face whose answer the model's rule marks as doubtful, realtime/uncertainty.py)."""
from __future__ import annotations

import csv
import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import db
from db import jobs, videos
from db.observations import attach_computation
from portal.analyses import service as analyses
from portal.analyses.storage import remove_files
from portal.jobs.reporting import JobInputError, Reporter
from portal.jobs.settings import JobSettings
from realtime import Analysis, ImageError, PipelineConfig, get_analyzer

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"  # [{"file": "uploads/001.jpg", "name": "IMG_0001.jpg"}, ...]
NO_UPLOADS = ("the photos of this batch were removed when its job was cancelled or failed: "
              "upload them again as a new batch")
UPLOADS = "uploads"  # the uploaded photos, removed once the batch is done, cancelled or failed
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula


def remove_uploads(data_dir: Path, folder: str) -> None:
    """Remove a batch's uploaded photos (its results stay); a retry then needs a new upload."""
    shutil.rmtree(Path(data_dir) / folder / UPLOADS, ignore_errors=True)


def discard_uploads(job: jobs.Job, data_dir: Path) -> None:
    """Remove the uploaded photos of a batch job's batch (cancelled or failed)."""
    with db.connection():
        batch = videos.get_batch(job.params.get("batch_id"))
    if batch is not None:
        remove_uploads(data_dir, batch.folder)
        log.info("batch %d: uploaded photos removed (job %d cancelled or failed)", batch.id, job.id)


def has_uploads(data_dir: Path, folder: str) -> bool:
    return (Path(data_dir) / folder / MANIFEST).is_file() and (Path(data_dir) / folder / UPLOADS).is_dir()


def csv_text(text: str) -> str:
    """A user-given text as a CSV cell that no spreadsheet runs as a formula ("=HYPERLINK(..." -> "'=...")."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _record_photo(batch: videos.Batch, analysis: Analysis, index: int, name: str, data_dir: Path) -> int:
    folder = Path(batch.folder)
    paths = str(folder / f"photo_{index:04d}.jpg"), str(folder / f"photo_{index:04d}.annotated.jpg")
    texts = {"title": f"{batch.title or 'batch'} / {name}"[:200], "exhibit": batch.exhibit, "notes": batch.notes}

    def add_to_batch(comp: db.Computation) -> None:  # in the photo's transaction: its rows all or none
        videos.add_batch_item(batch.id, comp.id, name)
        if batch.exhibit_id is not None and attach_computation(batch.owner_id, comp, batch.exhibit_id) is None:
            log.warning("batch %d: exhibit %d is no longer available; photo %d not added to it", batch.id,
                        batch.exhibit_id, index)

    comp = analyses.record(data_dir, batch.owner_id, "upload", analysis, analysis.image, analysis.draw(), paths,
                           texts, batch.consent, within=add_to_batch)
    return comp["id"]


def _rows(name: str, analysis: Analysis | None, classes: list[str], error: str = "") -> list[list[Any]]:
    blank = [""] * (8 + len(classes))  # face, x, y, w, h, emotion, uncertain, confidence, probabilities
    name = csv_text(name)
    if analysis is None:
        return [[name, "error: " + error, *blank]]
    if not analysis.faces:
        return [[name, "no face found", *blank]]
    return [[name, "ok", i + 1, *f.box, f.emotion, int(f.uncertain), round(f.confidence, 4),
             *(round(f.probabilities[c], 4) for c in classes)] for i, f in enumerate(analysis.faces)]


def _batch_of(job: jobs.Job, data_dir: Path) -> videos.Batch:
    with db.connection():
        batch = videos.get_batch(job.params.get("batch_id"))
        if batch is None:
            raise JobInputError("the batch of this job was deleted")
        if not has_uploads(data_dir, batch.folder):
            raise JobInputError(NO_UPLOADS)
        remove_files(data_dir, videos.clear_batch_items(batch.id))  # a retry starts over
    return batch


def run_batch_job(job: jobs.Job, settings: JobSettings, reporter: Reporter) -> dict[str, Any]:
    data_dir = Path(settings.data_dir)
    batch = _batch_of(job, data_dir)
    folder = data_dir / batch.folder
    manifest = json.loads((folder / MANIFEST).read_text())
    pipeline = PipelineConfig(model_path=settings.model_path)
    analyzer = get_analyzer(replace(pipeline, detector=settings.detector) if settings.detector else pipeline)
    classes = list(analyzer.classifier.classes)
    summary = folder / "summary.csv"
    counts = {"photos": len(manifest), "faces": 0, "errors": 0}
    with open(summary, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["photo", "status", "face", "x", "y", "w", "h", "emotion", "uncertain", "confidence", *classes])
        for i, item in enumerate(manifest):
            reporter.check()
            try:
                analysis = analyzer.analyze(folder / item["file"])
            except ImageError as exc:
                counts["errors"] += 1
                out.writerows(_rows(item["name"], None, classes, str(exc)))
                continue
            _record_photo(batch, analysis, i + 1, item["name"], data_dir)
            counts["faces"] += len(analysis.faces)
            out.writerows(_rows(item["name"], analysis, classes))
            reporter.progress((i + 1) / len(manifest))
    with db.connection():
        videos.set_batch_summary(batch.id, str(summary.relative_to(data_dir)))
    remove_uploads(data_dir, batch.folder)
    return {"batch_id": batch.id, **counts}
