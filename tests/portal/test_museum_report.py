"""Issue 20: the organisation's printable report (PDF): the ranking, each exhibit's measures with
intervals, the before/after comparisons saved by its curators, the method in words; members
only (another organisation's 404), saved comparisons deleted with their exhibit."""
from __future__ import annotations

import io
import re

from pypdf import PdfReader

import db
from db import comparisons
from db.museum import Exhibit
from tests.helpers.web import post, register

from .test_museum_curator_pages import MARCH_1, MARCH_20, _exhibits, _record


def _text(pdf: bytes) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def test_the_report_has_the_ranking_measures_a_saved_comparison_and_the_method(app, client, alice):
    org_url, (joyful, gloomy) = _exhibits(client, "Joyful", "Gloomy")
    org_id = int(org_url.rsplit("/", 1)[1])
    _record(alice.id, joyful, MARCH_1, 200, happy=0.3)
    _record(alice.id, joyful, MARCH_20, 200, happy=0.6)
    _record(alice.id, gloomy, MARCH_1, 150, happy=0.1)
    dashboard = f"/exhibits/{joyful}?split=2026-03-10"
    assert 'id="save-comparison"' in client.get(dashboard).get_data(as_text=True)
    r = post(client, f"/exhibits/{joyful}/comparisons", {"split": "2026-03-10"}, page=dashboard)
    assert r.status_code == 302 and "split=2026-03-10" in r.headers["Location"]
    bad = post(client, f"/exhibits/{joyful}/comparisons", {"split": "soon"}, page=dashboard)
    assert bad.status_code == 302  # back to the dashboard with the reason, nothing saved
    page = client.get(org_url).get_data(as_text=True)
    assert "Joyful: before and from 2026-03-10" in page.split('id="saved-comparisons"')[1]

    r = client.get(f"/organisations/{org_id}/report.pdf?measure=happy")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "attachment" in r.headers["Content-Disposition"]
    text = re.sub(r"\s+", " ", _text(r.data))
    assert "Exhibits ranked by happy" in text
    assert text.index("Joyful", text.index("Exhibits ranked")) < text.index("Gloomy", text.index("Exhibits ranked"))
    assert re.search(r"Happy \d+% \(\d+–\d+%\)", text), text[:2000]  # each exhibit's measures
    assert re.search(r"Attraction \d+% \(\d+–\d+%\)", text)
    assert "Joyful: before and from 2026-03-10" in text
    assert re.search(r"Happy: \d+% -> \d+%, a clear increase", text)  # the saved comparison
    assert re.search(r"[+-]\d+ points \([+-]\d+ to [+-]\d+\)", text)
    for words in ("How these numbers are made", "Visitors, not faces", "95 % interval",
                  "permutation test"):
        assert words in text, words
    assert client.get(f"/organisations/{org_id}/report.pdf?measure=joy").status_code == 302
    assert client.get(f"/organisations/{org_id}/report.pdf?from=2026-03-15&to=2026-03-01").status_code == 302
    dated = client.get(f"/organisations/{org_id}/report.pdf?from=2026-03-15")
    assert dated.status_code == 200 and "Period: 2026-03-15 to today" in _text(dated.data)

    with db.connection():
        assert len(comparisons.comparisons_of(org_id)) == 1
        Exhibit.delete_by_id(joyful)  # deleted with its exhibit
        assert comparisons.comparisons_of(org_id) == []


def test_the_report_and_saved_comparisons_are_the_organisations_members_only(app, client, alice):
    org_url, (exhibit,) = _exhibits(client, "Mona Lisa")
    org_id = int(org_url.rsplit("/", 1)[1])
    dashboard = f"/exhibits/{exhibit}"
    post(client, f"/exhibits/{exhibit}/comparisons", {"split": "2026-03-10"}, page=dashboard)
    with db.connection():
        (saved,) = comparisons.comparisons_of(org_id)
    stranger = app.test_client()
    assert register(stranger, "mallory").status_code == 302
    assert stranger.get(f"/organisations/{org_id}/report.pdf").status_code == 404
    own = post(stranger, "/organisations", {"name": "Prado"}).headers["Location"]
    assert post(stranger, f"/exhibits/{exhibit}/comparisons", {"split": "2026-03-11"},
                page=own).status_code == 404
    assert post(stranger, f"/organisations/{org_id}/comparisons/{saved.id}/delete",
                page=own).status_code == 404
    assert client.get(f"/organisations/{org_id}/report.pdf").status_code == 200  # few visitors: hidden, not 500
    r = post(client, f"/organisations/{org_id}/comparisons/{saved.id}/delete", page=org_url)
    assert r.status_code == 302
    with db.connection():
        assert comparisons.comparisons_of(org_id) == []
