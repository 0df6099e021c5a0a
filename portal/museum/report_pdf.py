"""The organisation's printable report (issue 20) as a PDF (fpdf2): the content of
:func:`portal.museum.report.organisation_report` laid out on A4, text only.

    pdf_bytes = build_report_pdf(content, generated_at=datetime.now(timezone.utc))
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from portal.analyses.pdf import _Report, new_document

log = logging.getLogger(__name__)


def _heading(pdf: _Report, text: str, size: int = 13) -> None:
    pdf.ln(2)
    pdf.set_font(pdf.base_font, "B", size)
    pdf.multi_cell(pdf.epw, 7, pdf.text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.base_font, "", 10)


def _para(pdf: _Report, text: str, size: int = 10) -> None:
    pdf.set_font(pdf.base_font, "", size)
    pdf.multi_cell(pdf.epw, 5, pdf.text(text), new_x="LMARGIN", new_y="NEXT")


def _table(pdf: _Report, header: tuple, rows: list, widths: tuple) -> None:
    pdf.set_font(pdf.base_font, "", 9)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=5) as table:
        table.row([pdf.text(h) for h in header])
        for row in rows:
            table.row([pdf.text(str(cell)) for cell in row])
    pdf.ln(2)


def _ranking(pdf: _Report, ranking: dict) -> None:
    _heading(pdf, f"Exhibits ranked by {ranking['label'].lower()}")
    _table(pdf, ("Exhibit", "Visitors", f"{ranking['label']} (95 % interval)"), ranking["rows"],
           (3, 1, 2))
    for note in ranking["notes"]:
        _para(pdf, "• " + note)


def _exhibits(pdf: _Report, exhibits: list[dict]) -> None:
    _heading(pdf, "Each exhibit's measures")
    for ex in exhibits:
        _heading(pdf, f"{ex['name']} ({ex['visitors']} visitors)", size=11)
        if ex["hidden"]:
            _para(pdf, f"Hidden: {ex['hidden']}.")
        else:
            _table(pdf, ("Measure", "Value (95 % interval)"), ex["rows"], (1, 1))


def _comparisons(pdf: _Report, comparisons: list[dict]) -> None:
    _heading(pdf, "Before and after a change (saved comparisons)")
    if not comparisons:
        _para(pdf, "No comparison saved: save one from an exhibit's dashboard "
                   "(Before and after a change).")
    for c in comparisons:
        _heading(pdf, f"{c['exhibit']}: before and from {c['split']} "
                      f"({c['before']} / {c['after']} visitors)", size=11)
        if c["hidden"]:
            _para(pdf, c["hidden"] + ".")
            continue
        for words in c["words"]:
            _para(pdf, "• " + words)
        _table(pdf, ("Measure", "Before", "After", "Change (95 % interval)", "p-value"), c["rows"],
               (2, 2, 2, 3, 1))


def _method(pdf: _Report, content: dict) -> None:
    _heading(pdf, "How these numbers are made")
    for text in content["method"]:
        _para(pdf, text)
        pdf.ln(1)
    _heading(pdf, "The measures", size=11)
    for name, text in content["definitions"]:
        _para(pdf, f"{name}: {text}")


def build_report_pdf(content: dict, generated_at: datetime | None = None) -> bytes:
    generated_at = generated_at or datetime.now(timezone.utc)
    title = f"{content['organisation']}: visitor analytics"
    pdf = new_document("".join(e["name"] for e in content["exhibits"]), title,
                       "Organisation report", generated_at)
    _heading(pdf, title, size=18)
    _para(pdf, f"Period: {content['period']}.")
    _ranking(pdf, content["ranking"])
    _exhibits(pdf, content["exhibits"])
    _comparisons(pdf, content["comparisons"])
    _method(pdf, content)
    return bytes(pdf.output())
