"""Migration 6 and the roles/scopes functions on SQLite and PostgreSQL (issue 18): existing
members become managers and existing tokens keep their full rights; roles change, members
leave, the ownership moves; viewers cannot add data."""
import datetime as dt

import pytest

import db
from db import museum
from db import museum as m
from db import observations as obs
from db import tokens

from .conftest import database_at


def _user(name):
    return db.create_user(name, f"{name}@example.org", "hash").id


def test_migration_6_makes_members_managers_and_keeps_tokens_full(database_url):
    real = database_at(database_url, 5)
    with db.connection():
        real.execute_sql("INSERT INTO users (username, email, password_hash, full_name, organisation, "
                         "created_at, computation_count, auth_token) VALUES "
                         "('a', 'a@x.org', 'h', '', '', '2025-01-01 00:00:00', 0, 't'), "
                         "('b', 'b@x.org', 'h', '', '', '2025-01-01 00:00:00', 0, 't')")
        real.execute_sql("INSERT INTO organisations (name, owner_id, created_at) "
                         "VALUES ('M', 1, '2025-01-01 00:00:00')")
        real.execute_sql("INSERT INTO memberships (organisation_id, user_id, role, joined_at) VALUES "
                         "(1, 1, 'owner', '2025-01-01 00:00:00'), (1, 2, 'member', '2025-01-01 00:00:00')")
        real.execute_sql("INSERT INTO api_tokens (user_id, kind, name, token_hash, prefix, created_at) "
                         "VALUES (2, 'personal', 'cam', 'abc', 'ec_', '2025-01-01 00:00:00')")
    db.init(database_url)
    with db.connection():
        assert db.current_version(real) == db.LATEST_VERSION >= 6
        assert [r for _, r in m.members(1)] == ["owner", "manager"]
        token = tokens.ApiToken.get()
        assert (token.scope, token.exhibit_id) == ("full", None)
        assert m.create_exhibit(2, 1, "Vase") is not None  # a manager, as every member was


def test_roles_removal_and_transfer(database):
    alice, bob, carol = _user("alice"), _user("bob"), _user("carol")
    org = m.create_organisation(alice, "Museum")
    exhibit = m.create_exhibit(alice, org.id, "Vase")
    with pytest.raises(ValueError):
        m.create_invitation(alice, org.id, dt.timedelta(days=1), role="owner")
    m.accept_invitation(bob, m.create_invitation(alice, org.id, dt.timedelta(days=1), "manager").code)
    m.accept_invitation(carol, m.create_invitation(alice, org.id, dt.timedelta(days=1)).code)
    assert [(u.username, r) for u, r in m.members(org.id)] == [
        ("alice", "owner"), ("bob", "manager"), ("carol", "viewer")]
    # a viewer reads but adds nothing
    assert m.get_exhibit(carol, exhibit.id).id == exhibit.id
    assert m.recordable_exhibit(carol, exhibit.id) is None and obs.start_session(carol, exhibit.id) is None
    assert m.update_exhibit(carol, exhibit.id, name="Mine") is None
    assert m.create_exhibit(carol, org.id, "X") is None
    assert m.list_exhibits(carol, roles=museum.CONTRIBUTOR_ROLES) == []
    assert obs.start_session(bob, exhibit.id) is not None
    assert m.set_role(org.id, carol, "manager") and m.recordable_exhibit(carol, exhibit.id)
    assert not m.set_role(org.id, alice, "viewer")  # never the owner
    assert m.member_named(org.id, "CAROL").user_id == carol
    assert not m.remove_member(org.id, alice)  # the owner stays
    assert m.remove_member(org.id, carol) and m.get_exhibit(carol, exhibit.id) is None
    assert m.transfer_ownership(org.id, bob)
    assert [(u.username, r) for u, r in m.members(org.id)] == [("alice", "manager"), ("bob", "owner")]
    assert museum.Organisation.get_by_id(org.id).owner_id == bob
    assert not m.transfer_ownership(org.id, carol)  # not a member any more


def test_token_scopes_and_revoking_all(database):
    alice = _user("alice")
    exhibit = m.create_exhibit(alice, m.create_organisation(alice, "M").id, "Vase")
    with pytest.raises(ValueError):
        tokens.create_token(alice, scope="kiosk")  # a kiosk token names its exhibit
    with pytest.raises(ValueError):
        tokens.create_token(alice, scope="admin")
    kiosk, row = tokens.create_token(alice, name="Hall", scope="kiosk", exhibit_id=exhibit.id)
    found = tokens.lookup(kiosk)
    assert (found.scope, found.exhibit_id, found.user.username) == ("kiosk", exhibit.id, "alice")
    login, _ = tokens.create_token(alice, kind="login", expires_in=60)
    assert tokens.revoke_all(alice) == 2
    assert tokens.lookup(kiosk) is None and tokens.lookup(login) is None
