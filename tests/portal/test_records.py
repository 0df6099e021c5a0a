"""portal.analyses: one palette for image/PDF/web page, a PDF for any class, one download name."""
from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from portal.analyses.documents import content_disposition, download_name, json_bytes, slug
from portal.analyses.pdf import build_pdf
from realtime import palette

REPO = Path(__file__).resolve().parents[2]


def test_web_page_colours_are_generated_from_the_palette():
    css = (REPO / "portal" / "web" / "static" / "style.css").read_text()
    rules = re.findall(r"^\.emo-(?!meter)[a-z]+ \{ color: #[0-9a-f]{6}; \}$", css, flags=re.M)
    assert "\n".join(rules) == palette.css_rules()


def test_text_colours_keep_the_hue_and_read_on_white():
    import colorsys

    for name, rgb in palette.PALETTE.items():
        text = palette.text_color(name)
        assert palette.contrast_on_white(text) >= 4.5, name
        if max(rgb) - min(rgb) > 30:  # chromatic colours: same hue within a few degrees
            h1 = colorsys.rgb_to_hsv(*[c / 255 for c in rgb])[0]
            h2 = colorsys.rgb_to_hsv(*[c / 255 for c in text])[0]
            assert abs(h1 - h2) < 0.02, name
    # "surprise" is orange everywhere (it was orange / cyan / teal)
    r, g, b = palette.color_for("surprise")
    assert r > g > b


def test_unknown_class_gets_a_stable_fallback_colour():
    code = "from realtime.palette import color_for; print(color_for('contempt'))"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                           check=True).stdout for _ in range(2)}
    assert len(runs) == 1 and palette.color_for("contempt") not in palette.PALETTE.values()


def test_pdf_for_a_model_with_an_unknown_class():
    face = {"box": [0, 0, 10, 10], "emotion": "contempt", "confidence": 0.7,
            "probabilities": {"contempt": 0.7, "happy": 0.3}}
    comp = {"id": 3, "title": "Other model", "kind": "upload", "created_at": "2026-01-02T03:04:05Z",
            "faces_found": 1, "dominant_emotion": "contempt", "result": {"faces": [face]}}
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(build_pdf(comp, username="ann"))).pages)
    assert "Face 1: contempt" in text and "70%" in text


def test_download_names_and_json_document():
    comp = {"id": 12, "title": "Mona Lisa!", "kind": "upload", "created_at": "2025-01-01T12:00:00Z"}
    assert download_name(comp, "pdf") == "emotion-12-mona-lisa-20250101-1200.pdf"
    assert download_name({**comp, "title": "", "created_at": None}, "json") == "emotion-12-upload-undated.json"
    assert slug("  Ça va?  Très bien ") == "ça-va-très-bien"
    assert json_bytes(comp, "ann").decode().count('"user": "ann"') == 1


def test_records_does_not_import_flask():
    code = ("import sys, portal.analyses.documents, portal.analyses.storage, portal.analyses.pdf;"
            "print(sorted(m for m in ('flask', 'gradio', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_download_names_keep_accents_with_an_ascii_fallback():
    comp = {"id": 7, "title": "Café Größe", "kind": "upload", "created_at": "2025-01-01T12:00:00Z"}
    name = download_name(comp, "pdf")
    assert name == "emotion-7-café-größe-20250101-1200.pdf"
    header = content_disposition(name)
    assert header == ('attachment; filename="emotion-7-cafe-groe-20250101-1200.pdf"; '
                      "filename*=UTF-8''emotion-7-caf%C3%A9-gr%C3%B6%C3%9Fe-20250101-1200.pdf")
    assert content_disposition("a-b.json") == 'attachment; filename="a-b.json"'
    assert header.isascii()
