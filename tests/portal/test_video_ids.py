"""Issue 18 (Low): ids above 2^63 on the video, batch and job pages answer 404, not 500 (the
database cannot compare such a number: SQLite overflows, PostgreSQL's bigint is out of range)."""
from __future__ import annotations

import pytest
from tests.helpers.web import csrf_token

HUGE = (2**63, 2**64 + 7, 10**30)


@pytest.fixture(autouse=True)
def _stop_pool(app):
    yield
    app.extensions["jobs"].shutdown(wait=True)


@pytest.mark.parametrize("n", HUGE)
def test_huge_ids_on_video_batch_and_job_pages_are_404(client, alice, n):
    for url in (f"/videos/{n}", f"/videos/{n}/annotated.mp4", f"/videos/{n}/result.json", f"/videos/{n}/timeline.csv",
                f"/videos/{n}/timeline.svg", f"/videos/{n}/summary.pdf", f"/videos/jobs/{n}.json",
                f"/videos/batches/{n}", f"/videos/batches/{n}/summary.csv"):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/videos")
    for url in (f"/videos/{n}/delete", f"/videos/jobs/{n}/cancel", f"/videos/jobs/{n}/retry",
                f"/videos/batches/{n}/delete"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
