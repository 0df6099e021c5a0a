"""Migration 5 on SQLite and PostgreSQL: a video attached to an exhibit becomes observations
(one per face per frame, a track = a visitor), scoped to the owner's organisations, replaced on a
retry and deleted with the video."""
import db
from db import museum as m
from db import observations as obs
from db import videos
from db.observations import Observation
from portal.museum import analytics

PROBS = {"angry": 0.0, "disgust": 0.0, "fear": 0.1, "happy": 0.7, "sad": 0.0, "surprise": 0.1, "neutral": 0.1}


def _face(track, x):
    return {"track_id": track, "box": [x, 10, 40, 48], "emotion": "happy", "confidence": 0.7, "probabilities": PROBS}


TIMELINE = [{"t": t / 10, "frame": t, "faces": [_face(1, 5)] + ([_face(2, 90)] if 2 <= t <= 6 else [])}
            for t in range(10)] + [{"t": 1.0, "frame": 10, "faces": []}]


def _video(owner, exhibit_id):
    video, _ = videos.create_video_job(owner, folder=f"videos/{owner}/x", original_path="o.mp4", filename="o.mp4",
                                       exhibit_id=exhibit_id)
    return videos.get_video(video.id)


def test_video_observations_count_tracks_and_go_with_the_video(database):
    alice, bob = (db.create_user(n, f"{n}@example.org", "h").id for n in ("alice", "bob"))
    exhibit = m.create_exhibit(alice, m.create_organisation(alice, "Louvre").id, "Mona Lisa")
    assert db.current_version(database) == db.LATEST_VERSION >= 5
    video = _video(alice, exhibit.id)
    assert obs.add_video_observations(video, TIMELINE, batch=4) == 15
    assert obs.add_video_observations(video, TIMELINE) == 15  # a retry replaces, never doubles
    rows = obs.observation_rows(exhibit.id)
    assert len(rows) == 15 and {r["source"] for r in rows} == {"video"} and {r["video_id"] for r in rows} == {video.id}
    assert rows[0]["observed_at"] == video.created_at and rows[0]["face_size"] == 48
    assert analytics.visitor_count(rows) == 2
    assert [round(d, 6) for d in sorted(analytics.dwell_times(rows))] == [0.4, 0.9]  # first to last sighting

    intruder = _video(bob, exhibit.id)  # bob is not a member of alice's organisation
    assert obs.add_video_observations(intruder, TIMELINE) == 0
    assert obs.add_video_observations(_video(alice, None), TIMELINE) == 0

    assert videos.delete_video(alice, video.id) is not None
    assert Observation.select().count() == 0  # ON DELETE CASCADE
    assert m.get_exhibit(alice, exhibit.id) is not None  # the exhibit stays
