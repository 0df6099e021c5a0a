"""The printable visitor notice of an exhibit (PDF): emotion recognition is in use (EU AI Act
Art. 50(3): people exposed to it are informed at the latest at first exposure), what is and
is not stored, and whom to contact."""
from __future__ import annotations

from .records.pdf import _Report


def notice_text(exhibit_name: str, location: str, organisation: str, contact: str,
                retention_days: float | None) -> list[tuple[str, str]]:
    """(heading, paragraph) pairs of the notice."""
    images = ("Photos are only stored when a staff member deliberately takes one; "
              + (f"they are deleted after {retention_days:g} days." if retention_days
                 else "they are deleted when their record is deleted."))
    return [
        ("Emotion recognition in use",
         f"A camera at this exhibit ({exhibit_name}{', ' + location if location else ''}) "
         "analyses the facial expressions of visitors with an automated emotion recognition "
         "system. It estimates one of seven expressions (angry, disgust, fear, happy, sad, "
         "surprise, neutral); these are estimates, not facts about how you feel."),
        ("What is stored",
         "For each face seen: the time, an anonymous number that is valid only while you stay in "
         "front of the camera, the estimated expression probabilities and the size of the face. "
         "The museum team sees only totals over many visitors (numbers are hidden for small groups)."),
        ("What is not stored",
         "No video. No camera frame. No name, no identification, no face template: you are not "
         "recognised and cannot be recognised on a later visit. " + images),
        ("Your choice and contact",
         "If you do not wish to be analysed, please step out of the camera's view. Questions and "
         f"requests: {organisation}, {contact}."),
    ]


def build_notice(exhibit_name: str, location: str, organisation: str, contact: str,
                 retention_days: float | None = None) -> bytes:
    pdf = _Report(format="A4")
    pdf.setup_fonts()
    pdf.footer_text = f"{organisation} · visitor notice"
    pdf.add_page()
    f, width = pdf.base_font, pdf.epw
    pdf.set_font(f, "B", 26)
    pdf.multi_cell(width, 12, pdf.text("Notice to visitors"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(f, "", 14)
    pdf.multi_cell(width, 8, pdf.text(f"{exhibit_name}" + (f" — {location}" if location else "")),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for heading, text in notice_text(exhibit_name, location, organisation, contact, retention_days):
        pdf.set_font(f, "B", 16)
        pdf.multi_cell(width, 9, pdf.text(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(f, "", 13)
        pdf.multi_cell(width, 7, pdf.text(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    return bytes(pdf.output())
