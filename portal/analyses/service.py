"""A photo or frame analysed and kept (a computation): the one service the upload tab, the live
page, the JSON API and the photo-batch job share (no web framework here).

    ctx = Analyses(data_dir=config.data_dir, settings=AnalysisSettings())
    out = analyse_photo(ctx, user_id, "photo.jpg", title="Visitors", exhibit="Room 3")  # or the bytes
    live = LiveSession(ctx, owner=user_id)                   # one per webcam stream
    annotated, live = stream_frame(ctx, live, rgb_frame, user_id)
    out = capture(ctx, user_id, live, title="Hall")          # the latest live frame, recorded
    delete(config.data_dir, user_id, out.computation["id"])  # the row, both images, every download

Problems the user can fix (no photo, bad file, too large, no model) raise :class:`AppError` with a
message meant for them.  Privacy: live frames stay in memory (only the latest one, for Capture);
nothing is written to disk unless the user uploads a photo or captures a frame.
"""
from __future__ import annotations

import logging
import os
import shutil
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import db
from portal.analyses.downloads import write_downloads
from portal.analyses.settings import AnalysisSettings
from portal.analyses.shares import StreamShare, UploadShare
from portal.analyses.storage import downloads_dir, new_image_paths, remove_downloads, remove_files
from realtime import (Analysis, Analyzer, DetectorError, ImageError, ImageTooLargeError, ModelError, Stream, encode,
                      get_analyzer, load_classifier, load_image)

log = logging.getLogger(__name__)
LIVE_PARTS = ("detect", "classify", "draw")  # a live frame's timed parts; the rest of its time is "other"


class AppError(Exception):
    """Something the user can fix; the message is shown to them as is."""


class UploadQuotaError(AppError):
    """The account has analysed ``UPLOADS_PER_MINUTE`` photos in the last minute (API: 429)."""


class DownloadsFailed(AppError):
    """The computation was saved but its PDF/JSON could not be written."""

    def __init__(self, computation: dict):
        self.computation = computation
        cid = computation["id"]
        super().__init__(f"The result was saved as computation #{cid}, but its PDF and JSON "
                         f"downloads could not be created. Open it in History (/history/{cid}) "
                         "to view it and download them again.")


@dataclass
class Analyses:
    """What the service needs, built once per channel: where files go, the settings (model, detectors,
    limits), Gradio's upload cache (the upload tab only) and each user's fair share of streams and uploads."""

    data_dir: Path
    settings: AnalysisSettings = field(default_factory=AnalysisSettings)
    upload_dir: Path | None = None  # Gradio's upload cache: the only place an input file may be
    downloads: bool = True  # write the PDF/JSON downloads (the API builds them when asked instead)
    streams: StreamShare = field(init=False)
    uploads: UploadShare = field(init=False)

    def __post_init__(self):
        self.streams = StreamShare(self.settings.streams_per_user, self.settings.stream_idle_s)
        self.uploads = UploadShare(self.settings.uploads_per_minute)

    @property
    def download_dir(self) -> Path:
        return downloads_dir(self.data_dir)

    def analyzer(self, live: bool) -> Analyzer:
        config = self.settings.live_pipeline() if live else self.settings.upload_pipeline()
        try:
            # loaded once per path; the first load decides its thread count (see AnalysisSettings)
            load_classifier(self.settings.model_path, threads=self.settings.classifier_threads)
            return get_analyzer(config)
        except ModelError as exc:
            log.error("emotion model unavailable: %s", exc)
            raise AppError("The emotion model is not available on the server yet "
                           "(an administrator has to export it). Please try again later.") from exc


def warm_up(ctx: Analyses) -> threading.Thread:
    """Load the model and both detectors now (in a background thread), so the first
    webcam frame or photo does not wait for them. Failures are logged, not raised."""
    def run() -> None:
        t0 = time.perf_counter()
        try:
            blank = np.zeros((240, 320, 3), np.uint8)
            for live in (True, False):
                ctx.analyzer(live).analyze(blank)
            log.info("web app warmed up in %.1f s", time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - the pages still say what is wrong
            log.warning("web app warm-up failed: %s", exc)

    thread = threading.Thread(target=run, name="app-warm-up", daemon=True)
    thread.start()
    return thread


@dataclass
class Outcome:
    """A recorded computation: its row, the annotated image, and the downloads written for it."""

    computation: dict  # db.computation_to_dict(...)
    annotated: np.ndarray  # RGB
    pdf_path: Path | None  # None: not written (Analyses.downloads off)
    json_path: Path | None
    image_path: Path | None = None  # the annotated JPEG beside the downloads, named after the id


def _username(user_id: int) -> str:
    with db.connection():
        user = db.get_user(user_id)
    if user is None:
        raise AppError("Your account no longer exists. Please log in again.")
    return user.username


def _texts(title: str | None, exhibit: str | None, notes: str | None) -> dict:
    """The stripped texts, refused (never cut) when over ``db.TEXT_LIMITS``."""
    texts = {"title": (title or "").strip(), "exhibit": (exhibit or "").strip(),
             "notes": (notes or "").strip()}
    try:
        db.check_text_lengths(**texts)
    except db.TextTooLong as exc:
        raise AppError(str(exc)) from exc
    return texts


def model_version(analysis: Analysis) -> str:
    """What a computation row says of the model that produced it ("name version")."""
    return f"{analysis.model.get('name', '?')} {analysis.model.get('version', '?')}"


def record(data_dir: Path, owner_id: int, kind: str, analysis: Analysis, original: np.ndarray,
           annotated: np.ndarray, paths: tuple[str, str], texts: dict, consent: bool = False,
           quality: int = 90, within: Callable[[db.Computation], None] | None = None) -> dict:
    """Store a photo analysis: both images at ``paths`` (relative to ``data_dir``; re-encoded, so
    no EXIF/GPS is kept) and its computation row, whose dict is returned.  ``within(row)`` runs in
    the same transaction (a batch adds its item there).  All or nothing: when the row cannot be
    written, the images are removed.  The one place a photo analysis is kept: the upload tab, the
    live page's Capture, ``POST /api/v1/analyses`` and the photo-batch job all call it."""
    data_dir = Path(data_dir)
    original_rel, annotated_rel = paths
    result = analysis.to_dict()
    try:
        (data_dir / original_rel).write_bytes(encode(original, ".jpg", quality))
        (data_dir / annotated_rel).write_bytes(encode(annotated, ".jpg", quality))
        with db.connection(), db.database.atomic():
            comp = db.record_computation(
                owner_id=owner_id, kind=kind, **texts, consent=bool(consent), original_path=original_rel,
                annotated_path=annotated_rel, result=result, faces_found=len(analysis.faces),
                dominant_emotion=analysis.dominant_emotion, timings=result["timing_ms"],
                model_version=model_version(analysis))
            if within is not None:
                within(comp)
            comp_dict = db.computation_to_dict(comp)
    except BaseException:
        remove_files(data_dir, [original_rel, annotated_rel])
        raise
    log.info("%s computation user_id=%d computation_id=%d faces=%d dominant=%s total_ms=%.1f",
             kind, owner_id, comp_dict["id"], comp_dict["faces_found"], comp_dict["dominant_emotion"],
             float(result["timing_ms"].get("total", 0.0)))
    return comp_dict


def delete(data_dir: Path, owner_id: int, comp_id: int) -> int | None:
    """Delete one computation of ``owner_id`` with both images and every generated copy (PDF/JSON
    downloads, the annotated copy, Gradio's); the number of files removed, None when it is not
    theirs.  History and ``DELETE /api/v1/analyses/{id}`` both call it (in a database connection)."""
    paths = db.delete_computation(owner_id, comp_id)
    if paths is None:
        return None
    removed = remove_files(data_dir, paths) + remove_downloads(data_dir, [comp_id])
    log.info("computation deleted user_id=%d computation_id=%d files_removed=%d", owner_id, comp_id, removed)
    return removed


def _record(ctx: Analyses, user_id: int, kind: str, analysis: Analysis, original: np.ndarray,
            annotated: np.ndarray, title: str, exhibit: str, notes: str, consent: bool) -> Outcome:
    """Record a photo of the upload tab or the live page; write its downloads."""
    texts = _texts(title, exhibit, notes)
    username = _username(user_id)
    paths = new_image_paths(ctx.data_dir, user_id, suffix=".jpg")
    try:
        comp_dict = record(ctx.data_dir, user_id, kind, analysis, original, annotated, paths, texts,
                           consent, ctx.settings.saved_jpeg_quality)
    except LookupError as exc:
        raise AppError("Your account no longer exists. Please log in again.") from exc
    if not ctx.downloads:
        return Outcome(comp_dict, annotated, None, None)
    annotated_file = Path(ctx.data_dir) / paths[1]
    try:
        pdf_path, json_path = write_downloads(ctx.download_dir, comp_dict, annotated_file,
                                              username, ctx.settings.download_max_age_s)
        # what the page shows: Gradio keeps a copy under this name, so deleting the
        # computation finds it (portal.analyses.storage.remove_cached_copies)
        image_path = pdf_path.with_name(f"emotion-{comp_dict['id']}-annotated.jpg")
        shutil.copyfile(annotated_file, image_path)
    except Exception as exc:  # the computation is saved; only its downloads are missing
        log.exception("downloads failed for computation_id=%d", comp_dict["id"])
        raise DownloadsFailed(comp_dict) from exc
    return Outcome(comp_dict, annotated, pdf_path, json_path, image_path)


def analyse_photo(ctx: Analyses, user_id: int, source: Path | bytes, title: str, exhibit: str = "",
                  notes: str = "", consent: bool = False) -> Outcome:
    """Analyse a photo (a file, or its bytes as a client sent them) and record it (kind
    'upload'). Refused before any work: no title, texts over their limits, the account over its
    uploads per minute, a file that is not a regular file or is over ``max_upload_bytes``."""
    if not (title or "").strip():
        raise AppError("Please give the photo a title (it names the result in your History).")
    _texts(title, exhibit, notes)  # refused before any work
    if not ctx.uploads.admit(user_id):
        raise UploadQuotaError(f"You have analysed {ctx.settings.uploads_per_minute} photos in the last "
                       "minute, the most one account may; please wait a moment.")
    _bounded(source, ctx.settings.max_upload_bytes)
    analyzer = ctx.analyzer(live=False)
    t0 = time.perf_counter()
    try:
        decoded = load_image(source, ctx.settings.max_pixels)
        decode_ms = (time.perf_counter() - t0) * 1000.0
        analysis = analyzer.analyze(decoded)
    except ImageTooLargeError as exc:
        log.info("upload refused user_id=%d: %s", user_id, exc)
        raise AppError(f"The image is too large: {_plain(exc)}.") from exc
    except ImageError as exc:  # decoding, or the engine refusing it (degenerate, detector)
        log.info("upload refused user_id=%d: %s", user_id, exc)
        raise AppError(f"This file cannot be analysed: {_plain(exc)}. "
                       "Please upload a JPEG, PNG, WebP or BMP photo.") from exc
    except DetectorError as exc:
        log.warning("face detector failed on an upload user_id=%d: %s", user_id, exc)
        raise AppError("The face detector failed on this photo (it has been reset). Please try "
                       "again, or use another photo.") from exc
    analysis.timing_ms["decode"] = decode_ms
    annotated = analysis.draw()
    return _record(ctx, user_id, "upload", analysis, decoded.rgb, annotated, title, exhibit,
                   notes, consent)


def _bounded(source: Path | bytes, limit: int) -> None:
    if isinstance(source, (bytes, bytearray)):
        if len(source) > limit:
            raise AppError(f"The file is too large ({len(source) / 1048576:.1f} MB); the limit is "
                           f"{limit / 1048576:.0f} MB.")
        return
    regular_file(Path(source), limit)


def regular_file(path: Path, limit: int) -> Path:
    """``path`` if it is a regular file (no link, device or pipe) of at most ``limit`` bytes;
    checked without opening it."""
    try:
        info = os.lstat(path)
    except (OSError, ValueError) as exc:
        raise AppError("The uploaded file could not be read; please upload it again.") from exc
    if not stat.S_ISREG(info.st_mode):
        log.warning("upload refused: not a regular file")
        raise AppError("The uploaded file could not be read; please upload it again.")
    if info.st_size > limit:
        raise AppError(f"The file is too large ({info.st_size / 1048576:.1f} MB); the limit is "
                       f"{limit / 1048576:.0f} MB.")
    return path


def _plain(exc: Exception) -> str:
    """The core's message without the server-side file name."""
    text = str(exc)
    for prefix in ("file '",):
        if text.startswith(prefix) and "' " in text:
            text = "the file " + text.split("' ", 1)[1]
    return text.rstrip(".")



class LiveSession:
    """One browser session's webcam stream: tracking/smoothing state, the latest frame and
    its analysis (kept in memory for Capture only), and frame statistics."""

    def __init__(self, ctx: Analyses, owner: int | None = None):
        self.owner = owner  # the user whose webcam this is; nobody else may use it
        self.stream = Stream(analyzer=ctx.analyzer(live=True))
        self._lock = threading.Lock()
        self.frame: np.ndarray | None = None
        self.analysis: Analysis | None = None
        self.annotated: np.ndarray | None = None
        self.frames = 0
        self._times: list[float] = []
        self._work_ms: list[float] = []  # pipeline (decode..draw) + encoding, per recent frame
        self._parts: list[dict[str, float]] = []  # the same frames' detect/classify/draw/other

    def update(self, frame: np.ndarray, analysis: Analysis, annotated: np.ndarray) -> None:
        with self._lock:
            self.frame, self.analysis, self.annotated = frame, analysis, annotated
            self.frames += 1
            now = time.perf_counter()
            self._times = [t for t in self._times if now - t < 2.0] + [now]

    def note_work(self, ms: float) -> None:
        """Server time spent on the latest frame (pipeline + encoding for the browser)."""
        with self._lock:
            self._work_ms = (self._work_ms + [float(ms)])[-30:]
            t = self.analysis.timing_ms if self.analysis is not None else {}
            parts = {k: float(t.get(k, 0.0)) for k in LIVE_PARTS}
            parts["other"] = max(0.0, float(ms) - sum(parts.values()))  # decode, encoding, tracking
            self._parts = (self._parts + [parts])[-30:]

    def timings(self) -> dict[str, float]:
        """Median ms of each part over the recent frames; ``total`` is their sum (so the caption adds up)."""
        with self._lock:
            parts = list(self._parts)
        if not parts:
            return {}
        out = {k: float(np.median([p[k] for p in parts])) for k in (*LIVE_PARTS, "other")}
        out["total"] = sum(out.values())
        return out

    @property
    def work_ms(self) -> float:
        with self._lock:
            return float(np.median(self._work_ms)) if self._work_ms else 0.0

    @property
    def fps(self) -> float:
        """Frames processed per second over the last two seconds."""
        with self._lock:
            times = list(self._times)
        if len(times) < 2:
            return 0.0
        return (len(times) - 1) / max(times[-1] - times[0], 1e-6)

    def latest(self) -> tuple[np.ndarray | None, Analysis | None, np.ndarray | None]:
        with self._lock:
            return self.frame, self.analysis, self.annotated

    def reset(self) -> None:
        self.stream.reset()
        with self._lock:
            self.frame = self.analysis = self.annotated = None
            self.frames = 0
            self._times = []


def stream_frame(ctx: Analyses, live: LiveSession | None, frame: np.ndarray | None,
                 user_id: int | None = None) -> tuple[np.ndarray | None, LiveSession | None]:
    """Analyse one webcam frame (RGB) with tracking and smoothing; return it annotated.

    ``user_id``: whose stream this is; a session started by another user is refused, and a
    user over their share of streams (:class:`StreamShare`) is told so.
    Nothing is stored: the frame and its result replace the previous ones in memory.
    """
    if frame is None:
        return None, live
    _check_owner(live, user_id)
    if live is None:
        live = LiveSession(ctx, owner=user_id)
    if user_id is not None and not ctx.streams.admit(user_id, id(live)):
        raise AppError(f"You already have {ctx.settings.streams_per_user} webcam streams open, the "
                       "most one account may; stop one (or close its tab) and try again.")
    analysis = live.stream.process(frame)
    annotated = analysis.draw()
    live.update(analysis.image if analysis.image is not None else frame, analysis, annotated)
    return annotated, live


def _check_owner(live: LiveSession | None, user_id: int | None) -> None:
    """Live state belongs to the user who started it, not to a browser session id."""
    if live is not None and live.owner is not None and live.owner != user_id:
        log.warning("live state of user_id=%s used by user_id=%s refused", live.owner, user_id)
        raise AppError("This webcam session belongs to another account. Reload the page.")


def capture(ctx: Analyses, user_id: int, live: LiveSession | None, title: str = "",
            exhibit: str = "", notes: str = "", consent: bool = False) -> Outcome:
    """Record the latest live frame and its (smoothed) result as a computation (kind 'webcam')."""
    _check_owner(live, user_id)
    frame, analysis, annotated = live.latest() if live is not None else (None, None, None)
    if frame is None or analysis is None or annotated is None:
        raise AppError("There is no webcam frame to capture yet: start the webcam first.")
    return _record(ctx, user_id, "webcam", analysis, frame, annotated, title, exhibit, notes,
                   consent)
