"""Museum tables (migration 3) on SQLite and PostgreSQL: scoping, invitations, tokens, cascades."""
import datetime as dt
import json

import pytest

import db
from db import museum as m
from db import observations as obs
from db import retention, tokens
from db.museum import Organisation
from db.observations import Observation
from db.tokens import ApiToken

PROBS = {"angry": 0.1, "disgust": 0.0, "fear": 0.1, "happy": 0.5, "sad": 0.1, "surprise": 0.1,
         "neutral": 0.1}


def _user(name):
    return db.create_user(name, f"{name}@example.org", "hash").id


def _comp(owner, faces=3):
    face = {"box": [1, 2, 30, 40], "emotion": "happy", "probabilities": PROBS}
    return db.record_computation(owner_id=owner, kind="upload", title="t", consent=True, original_path="a.jpg",
                                 annotated_path="b.jpg", result={"faces": [face] * faces}, faces_found=faces,
                                 dominant_emotion="happy", timings={}, model_version="m")


def test_migration_3_brings_the_schema_to_the_latest_version(database):
    assert db.LATEST_VERSION >= 3
    assert db.current_version(database) == db.LATEST_VERSION
    for table in ("organisations", "memberships", "invitations", "exhibits", "recording_sessions",
                  "exhibit_computations", "observations", "api_tokens"):
        assert database.table_exists(table), table


def test_objects_of_other_organisations_are_invisible(database):
    alice, bob = _user("alice"), _user("bob")
    org = m.create_organisation(alice, "  Louvre ")
    assert org.name == "Louvre"
    exhibit = m.create_exhibit(alice, org.id, "Mona Lisa", "Room 711")
    assert m.get_exhibit(alice, exhibit.id).name == "Mona Lisa"
    assert m.get_exhibit(bob, exhibit.id) is None
    assert m.get_organisation(bob, org.id) is None
    assert m.create_exhibit(bob, org.id, "Intruder") is None
    assert m.update_exhibit(bob, exhibit.id, archived=True) is None
    assert m.list_exhibits(bob) == []
    assert obs.start_session(bob, exhibit.id) is None
    assert m.get_exhibit(alice, "not-a-number") is None
    sess = obs.start_session(alice, exhibit.id)
    assert obs.get_session(bob, sess.id) is None and obs.get_session(alice, sess.id).id == sess.id


def test_invitation_is_single_use_owner_only_and_expires(database):
    alice, bob, carol = _user("alice"), _user("bob"), _user("carol")
    org = m.create_organisation(alice, "Museum")
    assert m.create_invitation(bob, org.id, dt.timedelta(days=1)) is None  # not a member
    inv = m.create_invitation(alice, org.id, dt.timedelta(days=1))
    assert m.accept_invitation(bob, inv.code).id == org.id
    assert [r for _, r in m.members(org.id)] == ["owner", "viewer"]  # the default role
    assert m.accept_invitation(carol, inv.code) is None  # used up
    with pytest.raises(m.NotAllowed):
        m.create_invitation(bob, org.id, dt.timedelta(days=1))  # members do not invite
    expired = m.create_invitation(alice, org.id, dt.timedelta(seconds=-1))
    assert m.accept_invitation(carol, expired.code) is None
    assert m.get_organisation(carol, org.id) is None
    assert [o.id for o in m.organisations_of(bob)] == [org.id]


def test_tokens_store_only_a_hash_and_can_be_revoked_or_expire(database):
    alice, bob = _user("alice"), _user("bob")
    token, row = tokens.create_token(alice, name="Camera 1")
    assert token.startswith("ec_") and len(token) > 40
    stored = ApiToken.get_by_id(row.id)
    assert token not in (stored.token_hash, stored.prefix) and len(stored.prefix) < 12
    assert tokens.user_for_token(token).id == alice
    assert ApiToken.get_by_id(row.id).last_used_at is not None
    assert tokens.user_for_token(token + "x") is None
    assert not tokens.revoke_token(bob, row.id)
    assert tokens.revoke_token(alice, row.id)
    assert tokens.user_for_token(token) is None
    short, _ = tokens.create_token(alice, kind="login", expires_in=-1)
    assert tokens.user_for_token(short) is None
    assert tokens.personal_tokens(alice) == []


def test_attached_photo_faces_become_observations_and_go_with_the_computation(database):
    alice = _user("alice")
    org = m.create_organisation(alice, "Museum")
    exhibit = m.create_exhibit(alice, org.id, "Vase")
    comp = _comp(alice, faces=3)
    assert obs.attach_computation(alice, comp, exhibit.id).id == exhibit.id
    rows = obs.observation_rows(exhibit.id)
    assert [r["track_id"] for r in rows] == [1, 2, 3]
    assert rows[0]["probabilities"] == PROBS and rows[0]["face_size"] == 40
    assert rows[0]["source"] == "upload" and rows[0]["computation_id"] == comp.id
    db.delete_computation(alice, comp.id)
    assert obs.observation_rows(exhibit.id) == []


def test_session_observations_and_user_deletion_cascade(database):
    alice = _user("alice")
    org = m.create_organisation(alice, "Museum")
    exhibit = m.create_exhibit(alice, org.id, "Vase")
    sess = obs.start_session(alice, exhibit.id)
    face = {"track_id": 4, "box": [0, 0, 50, 60], "emotion": "happy", "probabilities": PROBS}
    assert obs.add_session_observations(sess, 2.5, [face, dict(face, track_id=5)]) == 2
    assert obs.max_track_id(sess.id) == 5
    rows = obs.observation_rows(exhibit.id, session_id=sess.id)
    assert rows[0]["observed_at"] == sess.started_at + dt.timedelta(seconds=2.5)
    obs.stop_session(sess, {"visitors": 2})
    assert json.loads(obs.get_session(alice, sess.id).summary_json) == {"visitors": 2}
    tokens.create_token(alice)
    db.delete_user(alice)
    assert Observation.select().count() == 0 and Organisation.select().count() == 0
    assert ApiToken.select().count() == 0


def test_retention_clears_old_image_paths_and_keeps_observations(database):
    alice = _user("alice")
    exhibit = m.create_exhibit(alice, m.create_organisation(alice, "M").id, "Vase")
    old, new = _comp(alice), _comp(alice)
    obs.attach_computation(alice, old, exhibit.id)
    db.Computation.update(created_at=db.base.utcnow() - dt.timedelta(days=40)).where(
        db.Computation.id == old.id).execute()
    assert sorted(retention.expire_images(30)) == ["a.jpg", "b.jpg"]
    assert db.Computation.get_by_id(old.id).original_path == ""
    assert db.Computation.get_by_id(new.id).original_path == "a.jpg"
    assert len(obs.observation_rows(exhibit.id)) == 3
    assert retention.expire_images(30) == []


def test_ids_out_of_range_are_simply_not_found(database):
    alice = _user("alice")
    for bad in (2**63, -1, 0, "1e3", None):
        assert m.get_exhibit(alice, bad) is None and m.get_organisation(alice, bad) is None
        assert obs.get_session(alice, bad) is None and not tokens.revoke_token(alice, bad)
