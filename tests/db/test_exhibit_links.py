"""Migration 11: a video's and a batch's exhibit are foreign keys (issue 19).  A database made by the
previous migrations keeps its rows; ids that pointed nowhere are cleared; deleting an exhibit unlinks
its videos and batches instead of leaving them pointing at a missing (or later reused) id."""
import peewee as pw

import db
from db import museum, observations, videos

from .conftest import database_at


def test_migration_11_keeps_rows_clears_dangling_ids_and_links_exhibits(database_url):
    real = database_at(database_url, 10)
    with db.connection():
        owner = db.create_user("ann", "ann@example.org", "h").id
        org = museum.create_organisation(owner, "Louvre")
        hall = museum.create_exhibit(owner, org.id, "Hall")
        linked, _ = videos.create_video_job(owner, folder="videos/1/a", original_path="videos/1/a/in.mp4",
                                            filename="clip.mp4", title="linked", exhibit="Hall", exhibit_id=hall.id)
        dangling, _ = videos.create_video_job(owner, folder="videos/1/b", original_path="videos/1/b/in.mp4",
                                              filename="old.mp4", title="old", exhibit="Gone",
                                              exhibit_id=hall.id + 1000)
        batch, _ = videos.create_batch_job(owner, folder="batches/1/c", photos=1, title="b", exhibit="Hall",
                                           exhibit_id=hall.id)
        face = {"track_id": 1, "box": [0, 0, 40, 40], "emotion": "happy",
                "probabilities": {e: float(e == "happy") for e in db.EMOTIONS}}
        assert observations.add_video_observations(linked, [{"t": 0.5, "faces": [face]}]) == 1
    db.init(database_url)  # migrates to the latest version
    with db.connection():
        assert db.current_version(real) == db.LATEST_VERSION >= 11
        assert videos.Video.get_by_id(linked.id).exhibit_id == hall.id
        assert videos.Video.get_by_id(dangling.id).exhibit_id is None  # pointed nowhere: cleared
        assert videos.Video.get_by_id(dangling.id).title == "old"
        assert videos.Batch.get_by_id(batch.id).exhibit_id == hall.id
        assert observations.Observation.select().where(observations.Observation.video == linked.id).count() == 1
        hall_row = museum.Exhibit.get_by_id(hall.id)
        hall_row.delete_instance()  # as deleting its organisation does (ON DELETE CASCADE)
        assert videos.Video.get_by_id(linked.id).exhibit_id is None
        assert videos.Batch.get_by_id(batch.id).exhibit_id is None
        assert observations.Observation.select().count() == 0  # the exhibit's numbers went with it
        try:
            videos.Video.update(exhibit_id=10**6).where(videos.Video.id == linked.id).execute()
            refused = False
        except pw.IntegrityError:
            refused = True
        assert refused  # no id of an exhibit that does not exist can be stored any more
