import threading

import pytest

import db
from db import museum, observations, tokens

from .conftest import database_at


def make_user(name="alice", email=None):
    return db.create_user(name, email or f"{name}@example.org", "hash:" + name,
                          full_name=name.title(), organisation="Museum")


def record(owner_id, title="t", faces=1, paths=("o.png", "a.png"), kind="upload"):
    result = {"faces": [{"emotion": "happy", "confidence": 0.9}] * faces}
    return db.record_computation(
        owner_id=owner_id, kind=kind, title=title, exhibit="Hall 2", notes="n", consent=True,
        original_path=paths[0], annotated_path=paths[1], result=result, faces_found=faces,
        dominant_emotion="happy" if faces else None, timings={"total": 12.5}, model_version="fer-v1")


def test_init_creates_latest_schema_and_is_idempotent(database_url):
    real = db.init(database_url)
    with db.connection():
        assert db.current_version(real) == db.LATEST_VERSION
        assert {"users", "computations", "schema_version"} <= set(real.get_tables())
    real = db.init(database_url)  # second start: nothing to do, no error
    with db.connection():
        assert db.current_version(real) == db.LATEST_VERSION


def test_sqlite_uses_wal_in_created_directory(tmp_path):
    path = tmp_path / "new" / "dir" / "app.sqlite3"
    real = db.init(str(path))
    with db.connection():
        assert real.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert real.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert path.exists()


def test_migration_from_version_1_keeps_data(database_url):
    newer = [model._meta.table_name for model in observations.MODELS + tokens.MODELS + museum.MODELS]
    real = database_at(database_url, 1)
    with db.connection():
        cols = {c.name for c in real.get_columns("users")}
        assert "last_login_at" not in cols
        real.execute_sql("INSERT INTO users (username, email, password_hash, full_name, "
                         "organisation, created_at, computation_count, auth_token) VALUES "
                         "('old', 'old@example.org', 'h', '', '', '2024-01-01 00:00:00', 3, 'x')")
    db.init(database_url)
    with db.connection():
        assert db.current_version(real) == db.LATEST_VERSION
        assert set(newer) <= set(real.get_tables())
        assert "last_login_at" in {c.name for c in real.get_columns("users")}
        old = db.get_user_by_username("old")
        assert old.computation_count == 3 and old.last_login_at is None


def test_create_and_find_users(database):
    alice = make_user("Alice", "Alice@Example.org")
    assert alice.id and alice.email == "alice@example.org"
    assert alice.computation_count == 0 and len(alice.auth_token) == 32
    assert db.get_user(alice.id).username == "Alice"
    assert db.get_user_by_username("ALICE").id == alice.id
    assert db.get_user_by_email("ALICE@example.ORG").id == alice.id
    assert db.get_user_by_login("alice@example.org").id == alice.id
    assert db.get_user_by_login("alice").id == alice.id
    assert db.get_user(999999) is None and db.get_user("nope") is None


def test_duplicates_are_refused(database):
    make_user("alice")
    with pytest.raises(db.DuplicateUser) as err:
        make_user("ALICE", "other@example.org")
    assert err.value.field == "username"
    with pytest.raises(db.DuplicateUser) as err:
        make_user("bob", "Alice@example.org")
    assert err.value.field == "email"


def test_update_user(database):
    alice, bob = make_user("alice"), make_user("bob")
    user = db.update_user(alice.id, full_name="Alice A.", email="NEW@example.org")
    assert user.full_name == "Alice A." and user.email == "new@example.org"
    with pytest.raises(db.DuplicateUser):
        db.update_user(alice.id, email="bob@example.org")
    with pytest.raises(ValueError):
        db.update_user(alice.id, computation_count=100)
    with pytest.raises(LookupError):
        db.update_user(424242, full_name="x")
    assert db.get_user(bob.id).email == "bob@example.org"


def test_record_computation_counts_and_roundtrips(database):
    alice = make_user()
    comp = record(alice.id, title="Portrait")
    assert db.get_user(alice.id).computation_count == 1
    record(alice.id, faces=0)
    assert db.get_user(alice.id).computation_count == 2
    data = db.computation_to_dict(db.get_computation(alice.id, comp.id))
    assert data["title"] == "Portrait" and data["exhibit"] == "Hall 2"
    assert data["result"]["faces"][0]["emotion"] == "happy"
    assert data["timings_ms"] == {"total": 12.5}
    assert data["consent"] is True and data["kind"] == "upload"
    assert data["created_at"].endswith("Z")


def test_record_computation_bad_input_changes_nothing(database):
    alice = make_user()
    with pytest.raises(ValueError, match="kind"):
        record(alice.id, kind="video")
    with pytest.raises(LookupError):
        record(alice.id + 1000)
    assert db.get_user(alice.id).computation_count == 0
    assert db.count_computations(alice.id) == 0
    assert db.Computation.select().count() == 0


def test_list_is_newest_first_and_paginated(database):
    alice, bob = make_user("alice"), make_user("bob")
    for i in range(7):
        record(alice.id, title=f"c{i}")
    record(bob.id, title="bob's")
    page = db.list_computations(alice.id, page=1, per_page=3)
    assert [c.title for c in page.items] == ["c6", "c5", "c4"]
    assert (page.total, page.pages, page.has_prev, page.has_next) == (7, 3, False, True)
    last = db.list_computations(alice.id, page=3, per_page=3)
    assert [c.title for c in last.items] == ["c0"] and not last.has_next
    assert db.list_computations(alice.id, page=9, per_page=3).items == []


def test_owner_only_get_and_delete(database):
    alice, bob = make_user("alice"), make_user("bob")
    comp = record(alice.id, paths=("u/1.png", "u/1.annotated.png"))
    assert db.get_computation(bob.id, comp.id) is None
    assert db.get_computation(alice.id, "abc") is None
    assert db.delete_computation(bob.id, comp.id) is None
    assert db.get_computation(alice.id, comp.id) is not None
    assert db.delete_computation(alice.id, comp.id) == ["u/1.png", "u/1.annotated.png"]
    assert db.get_computation(alice.id, comp.id) is None
    assert db.delete_computation(alice.id, comp.id) is None
    # the lifetime count of computations run is not lowered by deleting one
    assert db.get_user(alice.id).computation_count == 1


def test_delete_user_removes_rows_and_owned_paths_are_collected_first(database):
    alice, bob = make_user("alice"), make_user("bob")
    record(alice.id, paths=("a1.png", "a1.ann.png"))
    record(alice.id, paths=("a2.png", ""))
    record(bob.id, paths=("b.png", "b.ann.png"))
    assert sorted(db.owned_paths(alice.id)) == ["a1.ann.png", "a1.png", "a2.png"]
    assert db.delete_user(alice.id) is True  # the computations go by ON DELETE CASCADE
    assert db.get_user(alice.id) is None
    assert db.Computation.select().where(db.Computation.owner == alice.id).count() == 0
    assert db.count_computations(bob.id) == 1
    assert db.delete_user(alice.id) is False and db.owned_paths(alice.id) == []


def test_describe_hides_password():
    assert db.describe("postgresql://u:secret@h:5432/d?options=x") == "postgresql://u@h:5432/d"
    assert db.describe("/tmp/x.sqlite3") == "/tmp/x.sqlite3"


def test_count_stays_right_under_parallel_writers(database):
    """Parallel record_computation calls from many threads (each its own
    connection) never lose an increment."""
    alice = make_user()
    threads, per_thread = 8, 6
    barrier = threading.Barrier(threads)
    errors = []

    def worker(n):
        try:
            with db.connection():
                barrier.wait()
                for i in range(per_thread):
                    record(alice.id, title=f"{n}-{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    assert db.get_user(alice.id).computation_count == threads * per_thread
    assert db.count_computations(alice.id) == threads * per_thread


@pytest.mark.security
@pytest.mark.parametrize("field, limit", [("title", 200), ("exhibit", 200), ("notes", 4000)])
def test_over_long_text_is_refused_not_cut(database, field, limit):
    alice = make_user("alice")
    texts = {"title": "t", "exhibit": "Hall 2", "notes": "n"}

    def store(text):
        db.record_computation(owner_id=alice.id, kind="upload", **{k: (text if k == field else v) for k, v in texts.items()},
                              consent=True, original_path="o.png", annotated_path="a.png", result={"faces": []},
                              faces_found=0, dominant_emotion=None, timings={}, model_version="fer-v1")

    store("é" * limit)  # exactly at the limit: kept whole
    with pytest.raises(db.TextTooLong, match=f"The {field} is {limit + 1:,} characters long; "
                                             f"the limit is {limit:,}"):
        store("日" * (limit + 1))
    assert db.count_computations(alice.id) == 1  # nothing stored half-way
    assert db.get_user(alice.id).computation_count == 1
    assert len(getattr(db.list_computations(alice.id).items[0], field)) == limit


def test_record_computation_takes_keywords_only(database_url):
    db.init(database_url)
    with db.connection():
        owner = db.create_user("kw", "kw@example.org", "x").id
        with pytest.raises(TypeError, match="positional"):
            db.record_computation(owner, "upload", {"faces": []}, 0, None, {}, "v")
        comp = db.record_computation(owner_id=owner, kind="upload", result={"faces": []}, faces_found=0,
                                     dominant_emotion=None, timings={}, model_version="v")
        assert (comp.title, comp.consent, comp.original_path) == ("", False, "")
