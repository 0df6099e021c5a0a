"""Issue 20 in the Flask pages: the exhibit dashboard shows each share with its interval and
defines every curator measure, compares the periods before and after a date in words, and the
organisation page ranks its exhibits saying which differences are clear."""
from __future__ import annotations

import datetime as dt
import re

import db
from db import observations
from portal.museum.analytics import EMOTIONS
from tests.helpers.web import post

MARCH_1, MARCH_20 = dt.datetime(2026, 3, 1, 10), dt.datetime(2026, 3, 20, 10)


def _face(track: int, emotion: str) -> dict:
    return {"track_id": track, "box": [0, 0, 60, 60], "emotion": emotion,
            "probabilities": {e: 0.9 if e == emotion else 0.1 / 6 for e in EMOTIONS}}


def _record(owner_id: int, exhibit_id: int, when: dt.datetime, n: int, happy: float):
    """``n`` visitors at ``when``, a ``happy`` share of them happy, every other one staying 8 s."""
    with db.connection():
        sess = observations.start_session(owner_id, exhibit_id)
        sess.started_at = when
        sess.save()
        faces = [_face(i, "happy" if i <= round(happy * n) else "neutral") for i in range(1, n + 1)]
        observations.add_session_observations(sess, 0.0, faces)
        observations.add_session_observations(sess, 8.0, faces[::2])


def _exhibits(client, *names):
    r = post(client, "/organisations", {"name": "Louvre"})
    org_url = r.headers["Location"]
    ids = []
    for name in names:
        r = post(client, org_url, {"name": name, "location": "", "description": ""})
        ids.append(int(r.headers["Location"].rsplit("/", 1)[1]))
    return org_url, ids


def test_the_dashboard_shows_intervals_definitions_and_a_before_after_comparison(client, alice):
    _, (exhibit_id,) = _exhibits(client, "Mona Lisa")
    _record(alice.id, exhibit_id, MARCH_1, 200, happy=0.3)
    _record(alice.id, exhibit_id, MARCH_20, 200, happy=0.6)
    page = client.get(f"/exhibits/{exhibit_id}").get_data(as_text=True)
    table = page.split('id="emotions"')[1].split("</table>")[0]
    assert re.search(r"<td>happy</td><td>\d+% \(\d+–\d+%\)</td>", table), table
    assert 'id="m-attraction">' in page and re.search(r'id="m-attraction">\d+% \(\d+–\d+%\)', page)
    assert 'id="m-stopped">200 of 400 tracked' in page or re.search(r'id="m-stopped">\d+ of 400 tracked', page)
    for sentence in ("Tracked visitors who stayed in view at least 5 seconds.",
                     "Stopped visitors divided by all tracked visitors", "95 % interval"):
        assert sentence in page
    page = client.get(f"/exhibits/{exhibit_id}?split=2026-03-10").get_data(as_text=True)
    words = page.split('id="compare-words"')[1].split("</ul>")[0]
    assert re.search(r"Happy: \d+% -&gt; \d+%, a clear increase", words), words
    # half of each period stays 8 s (published with the privacy noise, keyed by the server's secret)
    assert re.search(r"Attraction: (49|50|51)% -&gt; (49|50|51)%, no clear change", words), words
    assert 'id="compare-table"' in page and "points (" in page
    rows = {r.split("</th>")[0]: r for r in page.split('id="compare-table"')[1].split('<th scope="row">')[1:]}
    assert "<strong>clear</strong>" in rows["happy"] and "<strong>clear</strong>" not in rows["angry"]
    bad = client.get(f"/exhibits/{exhibit_id}?split=soon")
    assert bad.status_code == 200 and "&#39;split&#39; must be a date" in bad.get_data(as_text=True)
    late = client.get(f"/exhibits/{exhibit_id}?split=9999-12-31")
    assert late.status_code == 200 and "0 visitor(s) after 9999-12-31" in late.get_data(as_text=True)


def test_the_organisation_page_ranks_exhibits_and_says_which_differences_are_clear(client, alice):
    org_url, ids = _exhibits(client, "Joyful", "Also joyful", "Gloomy")
    for exhibit_id, happy in zip(ids, (0.6, 0.58, 0.2)):
        _record(alice.id, exhibit_id, MARCH_1, 150, happy=happy)
    page = client.get(org_url).get_data(as_text=True)
    ranking = page.split('id="ranking-list"')[1].split("</ol>")[0]
    assert ranking.index("Gloomy") > max(ranking.index("Joyful"), ranking.index("Also joyful"))
    assert re.search(r"\d+% \(\d+–\d+%\)", ranking)
    side_by_side = page.split('id="ex-h"')[1].split("</table>")[0]  # every share says how sure it is
    assert len(re.findall(r"\d+% \(\d+–\d+%\)", side_by_side)) == 3
    assert len(re.findall(r"\d+ s \(\d+–\d+ s\)", side_by_side)) == 3
    notes = page.split('id="ranking-notes"')[1].split("</ul>")[0]
    assert "no clear difference" in notes and "is clearly above Gloomy" in notes
    page = client.get(org_url + "?measure=dwell").get_data(as_text=True)
    assert re.search(r"\d+ s \(\d+–\d+ s\)", page.split('id="ranking-list"')[1])
    bad = client.get(org_url + "?measure=joy")
    assert bad.status_code == 200 and "ranked by happy instead" in bad.get_data(as_text=True)
