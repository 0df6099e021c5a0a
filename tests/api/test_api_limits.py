"""Per-user limits of recording sessions: one account cannot starve the others."""
from __future__ import annotations

import pytest

from .test_api_museum import _frame, _museum


@pytest.fixture
def museum_settings():
    from portal.museum.settings import MuseumSettings

    return MuseumSettings(min_visitors=2, max_fps=0.2, max_sessions=1)


def test_per_user_frame_rate_and_session_limits(users, portrait_jpeg):
    alice, bob = users["alice"], users["bob"]
    _, exhibit = _museum(alice)
    first = alice.post("/sessions", json={"exhibit_id": exhibit["id"]}).json()["id"]
    second = alice.post("/sessions", json={"exhibit_id": exhibit["id"]}).json()["id"]
    for i in range(3):  # a burst of frame_rate.BURST frames, then the average rate
        assert _frame(alice, first, portrait_jpeg, i / 10).status_code == 200
    r = _frame(alice, first, portrait_jpeg, 0.3)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    r = _frame(alice, second, portrait_jpeg, 0)
    assert r.status_code == 429 and "recording sessions running" in r.json()["detail"]
    _, other = _museum(bob)  # other users are not held up by alice's limits
    bob_sid = bob.post("/sessions", json={"exhibit_id": other["id"]}).json()["id"]
    assert _frame(bob, bob_sid, portrait_jpeg, 0).status_code == 200
    assert alice.post(f"/sessions/{first}/stop").status_code == 200  # frees the slot
    assert _frame(alice, second, portrait_jpeg, 0).status_code == 200
