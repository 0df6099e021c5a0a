"""The printable visitor notice of an exhibit (PDF): emotion recognition is in use (EU AI Act
Art. 50(3): people exposed to it are informed at the latest at first exposure), what is and
is not stored, and whom to contact."""
from __future__ import annotations

from dataclasses import dataclass

from portal.analyses.pdf import _Report


@dataclass(frozen=True)
class NoticeFacts:
    """What this installation actually keeps, from its settings (the web layer builds it: see
    :func:`portal.web.museum_pages.notice_facts`)."""
    retention_days: float | None = None  # RETENTION_DAYS: photos, videos and batches deleted after it
    videos: bool = True  # staff may attach recorded videos to exhibits (the Videos page, the API)
    visits: bool = False  # opted-in visit codes (issue 21) are offered
    visit_ends: str = "00:00"  # VISIT_ENDS: local time at which visit codes expire


def _kept_for(days: float | None) -> str:
    return f"deleted after {days:g} days" if days else "kept until a staff member deletes them"


def _videos(facts: NoticeFacts) -> list[tuple[str, str]]:
    if not facts.videos:
        return []
    return [("Recorded videos",
             "Staff may also film this exhibit with a video camera and attach the recording to it. Such a "
             "video is stored and can be played back by the museum team: it shows every frame, with the "
             "faces boxed and their estimated expressions (the original file is deleted once analysed). "
             f"Recorded videos are {_kept_for(facts.retention_days)}.")]


def _visits(facts: NoticeFacts) -> list[tuple[str, str]]:
    if not facts.visits:
        return []
    until = "the end of the day" if facts.visit_ends == "00:00" else f"{facts.visit_ends} local time"
    return [("Personalised visit (only if you ask for one)",
             "At a kiosk you may ask for a visit code. Your reaction numbers at each exhibit are then "
             f"linked to that code until {until}, to suggest what to see next; then they are deleted. "
             "Only a fingerprint of the code is stored, never an image; ending the visit "
             "deletes its numbers at once.")]


def notice_text(exhibit_name: str, location: str, organisation: str, contact: str,
                retention_days: float | None = None, facts: NoticeFacts | None = None) -> list[tuple[str, str]]:
    """(heading, paragraph) pairs of the notice, saying what ``facts`` (default: only
    ``retention_days`` known) keep."""
    facts = facts or NoticeFacts(retention_days)
    images = ("Photos are only stored when a staff member deliberately takes one; they are "
              + _kept_for(facts.retention_days).replace("them", "their record") + ".")
    return [
        ("Emotion recognition in use",
         f"A camera at this exhibit ({exhibit_name}{', ' + location if location else ''}) "
         "analyses the facial expressions of visitors with an automated emotion recognition "
         "system. It estimates one of seven expressions (angry, disgust, fear, happy, sad, "
         "surprise, neutral); these are estimates, not facts about how you feel."),
        ("What is stored",
         "Numbers only, for each face seen: the time, an anonymous number that is valid only while you "
         "stay in front of the camera, the estimated expression probabilities and the size of the face. "
         "These numbers hold no image and are kept until the museum deletes them; the museum team sees "
         "only totals over many visitors (numbers are hidden for small groups)."),
        *_videos(facts),
        ("What is not stored",
         "This exhibit's live camera (a kiosk, a staff member's recording) keeps no video and no camera "
         "frame: each frame is analysed and dropped. No name, no identification, no face template: you "
         "are not recognised and cannot be recognised on a later visit. " + images),
        *_visits(facts),
        ("Your choice and contact",
         "If you do not wish to be analysed, please step out of the camera's view. Questions and "
         f"requests: {organisation}, {contact}."),
    ]


def build_notice(exhibit_name: str, location: str, organisation: str, contact: str,
                 retention_days: float | None = None, facts: NoticeFacts | None = None) -> bytes:
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
    sections = notice_text(exhibit_name, location, organisation, contact, retention_days, facts)
    big = len(sections) <= 4  # the videos and visits sections would push a 13-point notice onto a second page
    for heading, text in sections:
        pdf.set_font(f, "B", 16 if big else 14)
        pdf.multi_cell(width, 9 if big else 7.5, pdf.text(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(f, "", 13 if big else 11.5)
        pdf.multi_cell(width, 7 if big else 6, pdf.text(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4 if big else 3)
    return bytes(pdf.output())
