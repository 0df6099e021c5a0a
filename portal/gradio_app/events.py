"""The web app's event functions, plain and testable (no Gradio here).

    ctx = AppContext(data_dir=config.data_dir, settings=AppSettings())
    out = run_upload(ctx, user_id, "photo.jpg", title="Visitors", exhibit="Room 3",
                     notes="", consent=True)            # -> Outcome (computation recorded)
    live = LiveSession(ctx)                              # one per browser session
    frame_out = stream_frame(ctx, live, rgb_frame)       # -> annotated RGB frame
    out = capture(ctx, user_id, live, title="", exhibit="", notes="", consent=False)

Problems the user can fix (no photo, bad file, too large, nothing to capture, no model)
raise :class:`AppError` with a message meant for them; ``webapp`` shows it as a warning.
Privacy: live frames stay in memory (only the latest one, for Capture); nothing is
written to disk unless the user runs an upload or captures a frame.
"""
from __future__ import annotations

import logging
import os
import shutil
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import db
from portal.analyses.pdf import emotion_order, face_label, uncertain_count
from realtime import contract
from realtime.classifier import DEFAULT_MODEL, ModelError, load_classifier
from realtime.detect import DetectorError
from realtime.draw import encode
from realtime.io import ImageError, ImageTooLargeError, load_image
from realtime.pipeline import Analysis, Analyzer, get_analyzer
from realtime.stream import Stream
from realtime.uncertainty import PROBABILITY_NOTE, uncertain_note

from portal.analyses.downloads import write_downloads
from portal.analyses.settings import AppSettings
from portal.analyses.shares import StreamShare, UploadShare

log = logging.getLogger(__name__)



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
class AppContext:
    data_dir: Path
    settings: AppSettings = field(default_factory=AppSettings)
    upload_dir: Path | None = None  # Gradio's upload cache: the only place an input file may be
    downloads: bool = True  # write the PDF/JSON downloads (the API builds them when asked instead)
    streams: StreamShare = field(init=False)
    uploads: UploadShare = field(init=False)

    def __post_init__(self):
        self.streams = StreamShare(self.settings.streams_per_user, self.settings.stream_idle_s)
        self.uploads = UploadShare(self.settings.uploads_per_minute)

    @property
    def download_dir(self) -> Path:
        from portal.analyses.storage import downloads_dir
        return downloads_dir(self.data_dir)

    def analyzer(self, live: bool) -> Analyzer:
        config = self.settings.live_pipeline() if live else self.settings.upload_pipeline()
        try:
            # loaded once per path; the first load decides its thread count (see AppSettings)
            load_classifier(self.settings.model_path, threads=self.settings.classifier_threads)
            return get_analyzer(config)
        except ModelError as exc:
            log.error("emotion model unavailable: %s", exc)
            raise AppError("The emotion model is not available on the server yet "
                           "(an administrator has to export it). Please try again later.") from exc


def warm_up(ctx: AppContext) -> threading.Thread:
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
    """A recorded computation: what the page shows and offers for download."""

    computation: dict  # db.computation_to_dict(...)
    annotated: np.ndarray  # RGB
    rows: list[list]  # per-face table
    summary: str  # markdown
    pdf_path: Path | None  # None: not written (AppContext.downloads off)
    json_path: Path | None
    image_path: Path | None = None  # the annotated JPEG beside the downloads, named after the id


# ------------------------------------------------------------------ helpers
def table_headers(emotions: list[str]) -> list[str]:
    """Column names of the per-face table for the model's classes (from its metadata)."""
    return ["Face", "Emotion", "Confidence %"] + [f"{e.capitalize()} %" for e in emotions]


def face_rows(result: dict) -> list[list]:
    """One row per face: number, emotion (or "uncertain: fear 35% / neutral 30%"), confidence %,
    each class probability in % (model order)."""
    faces = result.get("faces") or []
    emotions = emotion_order(faces)
    rows = []
    for i, face in enumerate(faces, 1):
        probs = face.get("probabilities") or {}
        rows.append([i, face_label(face), round(100 * float(face.get("confidence") or 0), 1)]
                    + [round(100 * float(probs.get(e, 0.0)), 1) for e in emotions])
    return rows


def summary_markdown(comp: dict) -> str:
    result = comp.get("result") or {}
    timing = comp.get("timings_ms") or {}
    n = int(comp.get("faces_found") or 0)
    parts = [f"**Saved as computation #{comp['id']}** "
             f"([open it in History](/history/{comp['id']}))."]
    if n:
        doubtful = uncertain_count(result.get("faces") or [])
        parts.append(f"**{n} face{'s' if n != 1 else ''} found** · dominant emotion: "
                     f"**{comp.get('dominant_emotion')}**" + (f" · {doubtful} uncertain" if doubtful else ""))
    else:
        parts.append("**No face was found.** Faces should be at least about 35 pixels wide, "
                     "facing the camera and not hidden; try a sharper or closer photo.")
    stages = ", ".join(f"{k} {float(timing[k]):.0f}" for k in ("decode", "detect", "classify", "draw")
                       if k in timing)
    if "total" in timing:
        parts.append(f"Processing time: **{float(timing['total']):.0f} ms** ({stages} ms)")
    model = result.get("model") or {}
    parts.append(f"Model: {model.get('name', '?')} version {model.get('version', '?')} · "
                 f"detector: {result.get('detector', '?')}")
    return "\n\n".join(parts)


def bars_help(settings: AppSettings) -> str:
    """What the probability bars mean and what "uncertain" means (with the served model's threshold),
    for the upload and live pages."""
    try:
        threshold = contract.read(settings.model_path or DEFAULT_MODEL).uncertainty_rule.threshold
    except ModelError:  # no model yet: the pages say so when used
        threshold = None
    return f"{PROBABILITY_NOTE} {uncertain_note(threshold)}"


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


def _record(ctx: AppContext, user_id: int, kind: str, analysis: Analysis, original: np.ndarray,
            annotated: np.ndarray, title: str, exhibit: str, notes: str, consent: bool) -> Outcome:
    """Store both images, record the computation, write the downloads."""
    from portal.analyses.storage import new_image_paths, remove_files

    texts = _texts(title, exhibit, notes)
    username = _username(user_id)
    result = analysis.to_dict()
    q = ctx.settings.saved_jpeg_quality
    original_rel, annotated_rel = new_image_paths(ctx.data_dir, user_id, suffix=".jpg")
    data_dir = Path(ctx.data_dir)
    (data_dir / original_rel).write_bytes(encode(original, ".jpg", q))  # re-encoded: no EXIF/GPS kept
    (data_dir / annotated_rel).write_bytes(encode(annotated, ".jpg", q))
    try:
        with db.connection():
            comp = db.record_computation(
                owner_id=user_id, kind=kind, **texts, consent=bool(consent), original_path=original_rel,
                annotated_path=annotated_rel, result=result, faces_found=len(analysis.faces),
                dominant_emotion=analysis.dominant_emotion, timings=result["timing_ms"],
                model_version=f"{analysis.model.get('name', '?')} {analysis.model.get('version', '?')}")
            comp_dict = db.computation_to_dict(comp)
    except LookupError as exc:
        remove_files(ctx.data_dir, [original_rel, annotated_rel])
        raise AppError("Your account no longer exists. Please log in again.") from exc
    except Exception:
        remove_files(ctx.data_dir, [original_rel, annotated_rel])
        raise
    log.info("%s computation user_id=%d computation_id=%d faces=%d dominant=%s total_ms=%.1f",
             kind, user_id, comp_dict["id"], comp_dict["faces_found"], comp_dict["dominant_emotion"],
             float(result["timing_ms"].get("total", 0.0)))
    if not ctx.downloads:
        return Outcome(comp_dict, annotated, face_rows(result), summary_markdown(comp_dict), None, None)
    try:
        pdf_path, json_path = write_downloads(ctx.download_dir, comp_dict, data_dir / annotated_rel,
                                              username, ctx.settings.download_max_age_s)
        # what the page shows: Gradio keeps a copy under this name, so deleting the
        # computation finds it (portal.analyses.storage.remove_cached_copies)
        image_path = pdf_path.with_name(f"emotion-{comp_dict['id']}-annotated.jpg")
        shutil.copyfile(data_dir / annotated_rel, image_path)
    except Exception as exc:  # the computation is saved; only its downloads are missing
        log.exception("downloads failed for computation_id=%d", comp_dict["id"])
        raise DownloadsFailed(comp_dict) from exc
    return Outcome(comp_dict, annotated, face_rows(result), summary_markdown(comp_dict),
                   pdf_path, json_path, image_path)


# ------------------------------------------------------------------ upload
def run_upload(ctx: AppContext, user_id: int, file_path: str | Path | None, title: str,
               exhibit: str = "", notes: str = "", consent: bool = False) -> Outcome:
    """Analyse an uploaded photo and record it (kind 'upload'). Gradio's cached copy of the
    photo is removed afterwards, whatever the outcome."""
    if not file_path:
        raise AppError("Choose a photo to analyse first.")
    try:
        return _analyse_upload(ctx, user_id, Path(file_path), title, exhibit, notes, consent)
    finally:
        discard_upload(ctx, Path(file_path))


def _analyse_upload(ctx: AppContext, user_id: int, path: Path, title: str, exhibit: str,
                    notes: str, consent: bool) -> Outcome:
    if not (title or "").strip():
        raise AppError("Please give the photo a title (it names the result in your History).")
    _texts(title, exhibit, notes)  # refused before any work
    if not ctx.uploads.admit(user_id):
        raise UploadQuotaError(f"You have analysed {ctx.settings.uploads_per_minute} photos in the last "
                       "minute, the most one account may; please wait a moment.")
    _regular_file(path, ctx.settings.max_upload_bytes)
    analyzer = ctx.analyzer(live=False)
    t0 = time.perf_counter()
    try:
        decoded = load_image(path, ctx.settings.max_pixels)
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


def _regular_file(path: Path, limit: int) -> Path:
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


def checked_upload(ctx: AppContext, file_path: str | Path | None) -> Path | None:
    """``file_path`` if it lies inside Gradio's upload cache (what an upload through Gradio
    produces) and is a regular file of bounded size; anything else is refused unopened."""
    if not file_path:
        return None
    try:
        path = Path(os.path.abspath(file_path))
        inside = ctx.upload_dir is not None and Path(ctx.upload_dir).resolve() in path.resolve().parents
    except (OSError, ValueError, TypeError, RuntimeError):
        inside = False
    if not inside:
        log.warning("event input outside Gradio's upload cache refused")
        raise AppError("The uploaded file could not be read; please upload it again.")
    return _regular_file(path, ctx.settings.max_upload_bytes)


def discard_upload(ctx: AppContext, path: Path) -> None:
    """Remove Gradio's cached copy of an analysed upload (and its folder when empty); files
    elsewhere (the API's own temporary files) are left to their owner."""
    if ctx.upload_dir is None or Path(ctx.upload_dir).resolve() not in path.resolve().parents:
        return
    try:
        path.unlink(missing_ok=True)
        if path.parent.resolve() != Path(ctx.upload_dir).resolve():
            path.parent.rmdir()
    except OSError:
        pass  # the folder holds another file, or is already gone


def _plain(exc: Exception) -> str:
    """The core's message without the server-side file name."""
    text = str(exc)
    for prefix in ("file '",):
        if text.startswith(prefix) and "' " in text:
            text = "the file " + text.split("' ", 1)[1]
    return text.rstrip(".")


# ------------------------------------------------------------------ live webcam
class LiveSession:
    """One browser session's webcam stream: tracking/smoothing state, the latest frame and
    its analysis (kept in memory for Capture only), and frame statistics."""

    def __init__(self, ctx: AppContext, owner: int | None = None):
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


def stream_frame(ctx: AppContext, live: LiveSession | None, frame: np.ndarray | None,
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


LIVE_PARTS = ("detect", "classify", "draw")  # the caption's parts; the rest of a frame's time is "other"


def live_caption(live: LiveSession | None) -> str:
    if live is None or live.analysis is None:
        return "Waiting for the webcam…"
    a = live.analysis
    n = len(a.faces)
    faces = f"{n} face{'s' if n != 1 else ''}"
    if n:
        faces += ": " + ", ".join(f.label for f in a.faces[:6])
    t = live.timings() or {k: float(a.timing_ms.get(k, 0.0)) for k in LIVE_PARTS}
    parts = {k: round(t.get(k, 0.0)) for k in (*LIVE_PARTS, "other")}
    return (f"{faces} · server {sum(parts.values())} ms per frame = "
            + " + ".join(f"{k} {v}" for k, v in parts.items() if k in LIVE_PARTS or v)
            + f" (medians of recent frames) · {live.fps:.1f} frames/s")


def capture(ctx: AppContext, user_id: int, live: LiveSession | None, title: str = "",
            exhibit: str = "", notes: str = "", consent: bool = False) -> Outcome:
    """Record the latest live frame and its (smoothed) result as a computation (kind 'webcam')."""
    _check_owner(live, user_id)
    frame, analysis, annotated = live.latest() if live is not None else (None, None, None)
    if frame is None or analysis is None or annotated is None:
        raise AppError("There is no webcam frame to capture yet: start the webcam first.")
    return _record(ctx, user_id, "webcam", analysis, frame, annotated, title, exhibit, notes,
                   consent)
