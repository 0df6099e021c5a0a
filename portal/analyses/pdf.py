"""PDF report of one computation (fpdf2), used by History and the real-time app.

    pdf_bytes = build_pdf(computation_dict, annotated_image_path, username="alice")

``computation_dict`` is :func:`db.computation_to_dict` output (or the same
keys): title, exhibit, notes, consent, kind, created_at, faces_found,
dominant_emotion, model_version, timings_ms, and ``result`` in the real-time
core's format (``faces[i].box/emotion/confidence/uncertain/probabilities``). A face marked
``uncertain`` is listed as "uncertain: fear 35% / neutral 30%"; a footnote says what the
probabilities and "uncertain" mean (:data:`realtime.uncertainty.PROBABILITY_NOTE`).
"""
from __future__ import annotations

import functools
import importlib.util
import io
import logging
from datetime import datetime, timezone
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from realtime import PROBABILITY_NOTE, color_for, label_for, uncertain_note

log = logging.getLogger(__name__)

MAX_CHART_FACES = 12
MAX_IMAGE_PX = 2000  # longest side embedded (~300 dpi across the page); larger photos are scaled down
# Used for characters DejaVu lacks (CJK, emoji...) when installed (`make install` adds Debian's
# fonts-noto-cjk / fonts-noto-color-emoji / fonts-noto-core when it can).
FALLBACK_FONTS = (
    ("NotoSansCJK", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    ("NotoColorEmoji", "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
    ("NotoSansSymbols2", "/usr/share/fonts/truetype/noto/NotoSansSymbols2-Regular.ttf"),
    ("NotoSansArabic", "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf"),
    ("NotoSansHebrew", "/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf"),
)
MISSING = "\ufffd"  # shown for a character no available font can draw (never dropped silently)


def _unicode_font() -> tuple[str, str] | None:
    """DejaVu Sans (regular, bold) as shipped with matplotlib, if installed."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf"
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    return (str(regular), str(bold)) if regular.exists() and bold.exists() else None


@functools.lru_cache(maxsize=None)
def _coverage(path: str) -> frozenset[int]:
    """The code points a font file has glyphs for (empty if it is not installed)."""
    if not Path(path).is_file():
        return frozenset()
    from fontTools.ttLib import TTFont
    try:
        return frozenset(TTFont(path, fontNumber=0, lazy=True).getBestCmap() or {})
    except Exception:
        log.warning("could not read the font %s", path, exc_info=True)
        return frozenset()


class _Report(FPDF):
    footer_text = ""

    def footer(self):
        self.set_y(-12)
        self.set_font(self.base_font, "", 8)
        self.set_text_color(110)
        self.cell(0, 6, self.text(f"{self.footer_text}   page {self.page_no()}/{{nb}}"), align="C")

    def setup_fonts(self, needed: str = ""):
        """DejaVu, plus those fallback fonts that draw characters of ``needed`` it lacks
        (a CJK font takes a second to load: only when the text has CJK)."""
        font = _unicode_font()
        self.covered: set[int] = set()
        if not font:
            self.base_font, self.unicode = "Helvetica", False
            return
        self.add_font("DejaVu", "", font[0])
        self.add_font("DejaVu", "B", font[1])
        self.base_font, self.unicode = "DejaVu", True
        self.covered = set(self.fonts["dejavu"].cmap)
        missing = {ord(c) for c in needed} - self.covered
        fallbacks = []
        for family, path in FALLBACK_FONTS if missing else ():
            useful = missing & _coverage(path)
            if useful and self._try_font(family, path):
                fallbacks.append(family)
                self.covered |= useful
                missing -= useful
        if fallbacks:
            self.set_fallback_fonts(fallbacks, exact_match=False)
        if importlib.util.find_spec("uharfbuzz") is not None:
            self.set_text_shaping(True)  # Arabic joined, Hebrew/Arabic right to left

    def _try_font(self, family: str, path: str) -> bool:
        if not Path(path).is_file():
            return False
        try:
            self.add_font(family, "", path)
            return True
        except Exception:  # a font fpdf2 cannot use: its characters get the marker
            log.warning("PDF fallback font %s could not be loaded", path, exc_info=True)
            return False

    def text(self, value) -> str:
        value = "" if value is None else str(value)
        if not self.unicode:
            return value.encode("latin-1", "replace").decode("latin-1")
        return "".join(c if ord(c) in self.covered or c in "\n\t" or _invisible(c) else MISSING
                       for c in value)


def _invisible(char: str) -> bool:
    """Joiners and variation selectors: part of emoji/script sequences, drawn by nothing."""
    return char in "\u200c\u200d" or "\ufe00" <= char <= "\ufe0f"


def emotion_order(faces: list) -> list[str]:
    """The model's classes in its own order, as stored with each face's probabilities.

    The class list lives in the model metadata (onnx/*.json) and travels in every result;
    it is never repeated in code here.
    """
    for face in faces:
        if face.get("probabilities"):
            return list(face["probabilities"])
    return []


def _probs(face: dict, emotions: list[str]) -> list[float]:
    probs = face.get("probabilities") or {}
    return [float(probs.get(e, 0.0) or 0.0) for e in emotions]


def face_label(face: dict) -> str:
    """What a stored face reads as: its emotion, or "uncertain: fear 35% / neutral 30%" when the
    engine marked it uncertain (results from before the mark read as their emotion)."""
    if face.get("uncertain") and face.get("probabilities"):
        return label_for(face["probabilities"], uncertain=True)
    return str(face.get("emotion") or "-")


def uncertain_count(faces: list) -> int:
    return sum(1 for f in faces if f.get("uncertain"))


def build_pdf(comp: dict, annotated_image: str | Path | None = None, *,
              username: str = "", generated_at: datetime | None = None) -> bytes:
    """Render the report and return the PDF bytes."""
    result = comp.get("result") or {}
    faces = result.get("faces") or []
    pdf = _new_report(comp, faces, username, generated_at or datetime.now(timezone.utc))
    _title(pdf, comp)
    _facts(pdf, _fact_rows(comp, result, faces, username), comp.get("notes"))
    _image(pdf, annotated_image, pdf.epw)
    if faces:
        _table(pdf, faces, pdf.epw)
        _chart(pdf, faces, pdf.epw)
        _footnote(pdf, result, pdf.epw)
    else:
        pdf.set_font(pdf.base_font, "", 11)
        pdf.multi_cell(pdf.epw, 6, pdf.text(result.get("message") or "No face was found in this image."),
                       new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _new_report(comp: dict, faces: list, username: str, generated_at: datetime) -> _Report:
    needed = "".join(str(comp.get(k) or "") for k in ("title", "exhibit", "notes")) + username \
        + "".join(str(f.get("emotion") or "") for f in faces)
    return new_document(needed, comp.get("title") or "Emotion analysis", "Emotion classifier report",
                        generated_at, username)


def new_document(needed: str, title: str, footer: str, generated_at: datetime,
                 author: str = "") -> _Report:
    """An A4 report with fonts for ``needed``, its first page started; the footer says
    ``footer`` and when it was generated (also :mod:`portal.museum.report_pdf`)."""
    pdf = _Report(format="A4")
    pdf.setup_fonts(needed + title)
    pdf.set_title(pdf.text(title))
    pdf.set_author(pdf.text(author))
    pdf.set_creator("emotion-classifier portal")
    pdf.footer_text = f"{footer} · generated {generated_at:%Y-%m-%d %H:%M} UTC"
    if not pdf.unicode:
        pdf.footer_text = pdf.footer_text.replace("·", "-")
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    return pdf


def _title(pdf: _Report, comp: dict) -> None:
    f, width = pdf.base_font, pdf.epw
    pdf.set_font(f, "B", 18)
    pdf.multi_cell(width, 9, pdf.text(comp.get("title") or "Emotion analysis"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(f, "", 10)
    pdf.set_text_color(90)
    pdf.cell(width, 6, "Emotion analysis report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.ln(2)


def _fact_rows(comp: dict, result: dict, faces: list, username: str) -> list[tuple[str, str]]:
    timings = comp.get("timings_ms") or result.get("timing_ms") or {}
    total_ms = timings.get("total")
    return [
        ("Date", (comp.get("created_at") or "").replace("T", " ").replace("Z", " UTC")),
        ("User", username),
        ("Source", {"upload": "Uploaded photo", "webcam": "Webcam capture"}.get(
            comp.get("kind"), comp.get("kind") or "")),
        ("Exhibit / location", comp.get("exhibit") or "-"),
        ("Consent", "the people pictured agreed" if comp.get("consent") else "not confirmed"),
        ("Faces found", str(comp.get("faces_found", len(faces)))),
        *([("Uncertain faces", f"{uncertain_count(faces)} (listed with their two most likely emotions)")]
          if uncertain_count(faces) else []),
        ("Dominant emotion", comp.get("dominant_emotion") or "none (no face found)"),
        ("Model version", comp.get("model_version") or "-"),
        ("Processing time", f"{float(total_ms):.1f} ms" if total_ms is not None else "-"),
    ]


def _facts(pdf: _Report, rows: list[tuple[str, str]], notes: str | None) -> None:
    f, width = pdf.base_font, pdf.epw
    for label, value in rows:
        pdf.set_font(f, "B", 10)
        pdf.cell(62, 6, pdf.text(label))
        pdf.set_font(f, "", 10)
        pdf.multi_cell(width - 62, 6, pdf.text(value), new_x="LMARGIN", new_y="NEXT")
    if notes:
        pdf.set_font(f, "B", 10)
        pdf.cell(width, 6, "Notes", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(f, "", 10)
        pdf.multi_cell(width, 5, pdf.text(notes), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _image(pdf: _Report, path, width: float) -> None:
    f = pdf.base_font
    if path is None or not Path(path).is_file():
        pdf.set_font(f, "", 10)
        pdf.cell(width, 8, "(Annotated image not available.)", new_x="LMARGIN", new_y="NEXT")
        return
    try:
        from PIL import Image
        with Image.open(path) as img:
            img.load()
            image = img.convert("RGB")
        # scaled down and embedded as JPEG: a 12-megapixel photo stays a small, fast PDF
        image.thumbnail((MAX_IMAGE_PX, MAX_IMAGE_PX))
        w_px, h_px = image.size
        encoded = io.BytesIO()
        image.save(encoded, "JPEG", quality=88)
        encoded.seek(0)
        max_h = 95.0
        w = min(width, max_h * w_px / h_px)
        h = w * h_px / w_px
        if pdf.get_y() + h > pdf.page_break_trigger:
            pdf.add_page()
        pdf.image(encoded, x=pdf.l_margin + (width - w) / 2, y=pdf.get_y(), w=w, h=h,
                  alt_text="Annotated image")
        pdf.set_y(pdf.get_y() + h + 4)
    except Exception:
        log.warning("could not put the image into the PDF", exc_info=True)
        pdf.set_font(f, "", 10)
        pdf.cell(width, 8, "(Annotated image could not be read.)", new_x="LMARGIN", new_y="NEXT")


def _table(pdf: _Report, faces: list, width: float) -> None:
    f = pdf.base_font
    pdf.set_font(f, "B", 12)
    pdf.cell(width, 8, "Faces and probabilities (%)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(f, "", 8)
    emotions = emotion_order(faces)
    headings = ["Face", "Emotion", "Conf."] + [e.capitalize() for e in emotions]
    label_w = 40 if uncertain_count(faces) else 22  # "uncertain: fear 35% / neutral 30%" on two lines
    widths = (12, label_w, 14) + (((width - 26 - label_w) / max(len(emotions), 1)),) * len(emotions)
    style = FontFace(emphasis="BOLD", fill_color=(232, 236, 245))
    with pdf.table(col_widths=widths, text_align="CENTER", line_height=5,
                   headings_style=style) as table:
        row = table.row()
        for heading in headings:
            row.cell(heading)
        for i, face in enumerate(faces, 1):
            row = table.row()
            row.cell(str(i))
            row.cell(pdf.text(face_label(face)))
            row.cell(f"{100 * float(face.get('confidence') or 0):.0f}")
            for p in _probs(face, emotions):
                row.cell(f"{100 * p:.1f}")
    pdf.ln(4)


def _chart(pdf: _Report, faces: list, width: float) -> None:
    f = pdf.base_font
    shown = faces[:MAX_CHART_FACES]
    emotions = emotion_order(faces)
    block_h, bar_h, label_w = len(emotions) * 4.2 + 9, 3.2, 22
    col_w = (width - 6) / 2
    pdf.set_font(f, "B", 12)
    if pdf.get_y() + 8 + block_h > pdf.page_break_trigger:
        pdf.add_page()
    pdf.cell(width, 8, "Probability chart", new_x="LMARGIN", new_y="NEXT")
    for i, face in enumerate(shown):
        col = i % 2
        if col == 0 and pdf.get_y() + block_h > pdf.page_break_trigger:
            pdf.add_page()
        x0 = pdf.l_margin + col * (col_w + 6)
        y0 = pdf.get_y()
        pdf.set_xy(x0, y0)
        pdf.set_font(f, "B", 9)
        pdf.cell(col_w, 5, pdf.text(f"Face {i + 1}: {face_label(face)}"))
        bar_max = col_w - label_w - 14
        for j, (emotion, p) in enumerate(zip(emotions, _probs(face, emotions))):
            y = y0 + 6 + j * 4.2
            pdf.set_font(f, "", 8)
            pdf.set_xy(x0, y - 0.4)
            pdf.cell(label_w, 4, emotion)
            pdf.set_fill_color(235, 235, 235)
            pdf.rect(x0 + label_w, y, bar_max, bar_h, style="F")
            pdf.set_fill_color(*color_for(emotion))
            if p > 0:
                pdf.rect(x0 + label_w, y, max(0.3, bar_max * min(p, 1.0)), bar_h, style="F")
            pdf.set_xy(x0 + label_w + bar_max + 1, y - 0.4)
            pdf.cell(13, 4, f"{100 * p:.0f}%")
        if col == 1 or i == len(shown) - 1:
            pdf.set_xy(pdf.l_margin, y0 + block_h)
        else:
            pdf.set_xy(pdf.l_margin, y0)
    if len(faces) > len(shown):
        pdf.set_font(f, "", 9)
        pdf.multi_cell(width, 5, f"Chart shows the first {len(shown)} of {len(faces)} faces; "
                                 "the table lists them all.", new_x="LMARGIN", new_y="NEXT")


def _footnote(pdf: _Report, result: dict, width: float) -> None:
    """What the numbers mean, under the chart (small gray print)."""
    threshold = (result.get("uncertainty") or {}).get("threshold")
    pdf.ln(2)
    pdf.set_font(pdf.base_font, "", 8)
    pdf.set_text_color(90)
    pdf.multi_cell(width, 4, pdf.text(f"{PROBABILITY_NOTE} {uncertain_note(threshold)}"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
