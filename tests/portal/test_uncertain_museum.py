"""Museum aggregates count faces marked uncertain apart (``uncertain_share``), never as their top
class: known answers on hand-made rows (through the database, the exports and the chart:
tests/db/test_uncertain_observations.py)."""
import datetime as dt

import pytest

from portal.museum import analytics
from portal.museum.privacy import Blur

EMOTIONS = analytics.EMOTIONS
DOUBTFUL = {"angry": 0.05, "disgust": 0.05, "fear": 0.35, "happy": 0.1, "sad": 0.1, "surprise": 0.05, "neutral": 0.3}
WHEN = dt.datetime(2026, 3, 2, 10, 0)  # a Monday, 10:00 UTC


def _sure(emotion: str) -> dict:
    return {e: (0.88 if e == emotion else 0.02) for e in EMOTIONS}


def _row(track: int, emotion: str, uncertain: bool = False, when: dt.datetime = WHEN) -> dict:
    return {"source": "session", "session_id": 1, "computation_id": None, "video_id": None, "t": 0.0,
            "observed_at": when, "track_id": track, "emotion": emotion, "uncertain": uncertain, "face_size": 40,
            "probabilities": DOUBTFUL if uncertain else _sure(emotion)}


# 10 visitors: 3 happy, 5 neutral, 2 whose faces the model was unsure of (their top class: fear)
ROWS = ([_row(k, "happy") for k in range(3)] + [_row(k, "neutral") for k in range(3, 8)]
        + [_row(k, "fear", uncertain=True) for k in range(8, 10)])


def test_uncertain_faces_are_a_share_of_their_own():
    s = analytics.summarise(ROWS, min_visitors=5)
    assert s["emotions"]["fear"] == 0.0  # never silently their top class
    assert (s["emotions"]["happy"], s["emotions"]["neutral"], s["uncertain_share"]) == pytest.approx((0.3, 0.5, 0.2))
    assert sum(s["emotions"].values()) + s["uncertain_share"] == pytest.approx(1.0)
    assert s["timeline"][0]["uncertain_share"] == pytest.approx(0.2)
    assert s["heatmap"]["dominant"][0][10] == "neutral"
    # a visitor seen twice, once unsure: half of their weight is uncertain
    mixed = analytics.summarise(ROWS[:9] + [_row(9, "happy"), _row(9, "fear", uncertain=True)], min_visitors=5)
    assert mixed["uncertain_share"] == pytest.approx(0.15) and mixed["emotions"]["happy"] == pytest.approx(0.35)


def test_a_cell_of_unsure_faces_is_dominated_by_uncertain():
    rows = [_row(k, "fear", uncertain=True) for k in range(6)] + [_row(9, "happy")]
    assert analytics.heatmap(rows, min_visitors=5)["dominant"][0][10] == "uncertain"
    hidden = analytics.summarise(rows[:3], min_visitors=5)
    assert hidden["hidden"] and hidden["uncertain_share"] is None


def test_noised_shares_keep_uncertain_in_the_distribution():
    shown = analytics.summarise(ROWS, 5, blur=Blur(b"k", exhibit_id=1, noise=1.0))
    assert sum(shown["emotions"].values()) + shown["uncertain_share"] == pytest.approx(1.0, abs=0.01)
    assert shown["uncertain_share"] == pytest.approx(0.2, abs=0.35)


def test_a_recordings_summary_names_the_uncertain_share():
    from portal.gradio_app.record import summary_markdown

    summary = analytics.session_summary(ROWS, 12.0, 5)
    text = summary_markdown(summary)
    assert "neutral 50%, happy 30%, uncertain 20%" in text and "fear" not in text
