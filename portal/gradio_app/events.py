"""The web app's event functions, plain and testable (no Gradio here): what the upload and live
tabs show of the analyses service (:mod:`portal.analyses.service`), and Gradio's upload cache.

    ctx = Analyses(data_dir=config.data_dir, settings=AnalysisSettings(), upload_dir=gradio_cache)
    out = run_upload(ctx, user_id, "photo.jpg", title="Visitors", exhibit="Room 3",
                     notes="", consent=True)            # -> Shown (computation recorded)
    out = capture(ctx, user_id, live, title="", exhibit="", notes="", consent=False)

Problems the user can fix raise :class:`portal.analyses.service.AppError` with a message meant
for them; the page shows it as a warning.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from portal.analyses import service
from portal.analyses.pdf import emotion_order, face_label, uncertain_count
from portal.analyses.service import LIVE_PARTS, Analyses, AppError, LiveSession, Outcome, regular_file
from portal.analyses.settings import AnalysisSettings
from realtime import DEFAULT_MODEL, PROBABILITY_NOTE, ModelError, contract, uncertain_note

log = logging.getLogger(__name__)


@dataclass
class Shown(Outcome):
    """A recorded computation with what the page shows of it: the per-face table and the summary."""

    rows: list[list] = field(default_factory=list)
    summary: str = ""  # markdown


def shown(outcome: Outcome) -> Shown:
    comp = outcome.computation
    return Shown(**vars(outcome), rows=face_rows(comp["result"]), summary=summary_markdown(comp))


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


def bars_help(settings: AnalysisSettings) -> str:
    """What the probability bars mean and what "uncertain" means (with the served model's threshold),
    for the upload and live pages."""
    try:
        threshold = contract.read(settings.model_path or DEFAULT_MODEL).uncertainty_rule.threshold
    except ModelError:  # no model yet: the pages say so when used
        threshold = None
    return f"{PROBABILITY_NOTE} {uncertain_note(threshold)}"


# ------------------------------------------------------------------ upload
def run_upload(ctx: Analyses, user_id: int, file_path: str | Path | None, title: str,
               exhibit: str = "", notes: str = "", consent: bool = False) -> Shown:
    """Analyse an uploaded photo and record it (kind 'upload'). Gradio's cached copy of the
    photo is removed afterwards, whatever the outcome."""
    if not file_path:
        raise AppError("Choose a photo to analyse first.")
    try:
        return shown(service.analyse_photo(ctx, user_id, Path(file_path), title, exhibit, notes, consent))
    finally:
        discard_upload(ctx, Path(file_path))


def checked_upload(ctx: Analyses, file_path: str | Path | None) -> Path | None:
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
    return regular_file(path, ctx.settings.max_upload_bytes)


def discard_upload(ctx: Analyses, path: Path) -> None:
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


# ------------------------------------------------------------------ live webcam
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


def capture(ctx: Analyses, user_id: int, live: LiveSession | None, title: str = "",
            exhibit: str = "", notes: str = "", consent: bool = False) -> Shown:
    """Record the latest live frame and its (smoothed) result as a computation (kind 'webcam')."""
    return shown(service.capture(ctx, user_id, live, title, exhibit, notes, consent))
