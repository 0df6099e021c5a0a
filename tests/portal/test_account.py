import db
from tests.helpers import PASSWORD
from tests.helpers.web import add_computation, login, logout, post, register


def test_account_page_shows_information(client, config, alice):
    add_computation(config, alice.id)
    add_computation(config, alice.id)
    page = client.get("/account").get_data(as_text=True)
    assert "alice@example.org" in page and "alice" in page
    assert "Member since" in page and alice.created_at.strftime("%d %B %Y") in page
    assert "<dd>2 <span" in page  # computations run


def test_edit_details(client, alice):
    resp = post(client, "/account", {"full_name": "Alice Liddell", "email": "NEW@example.org",
                                     "organisation": "Wonderland Museum"})
    assert resp.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "Your details have been saved." in page
    with db.connection():
        row = db.get_user(alice.id)
    assert (row.full_name, row.email, row.organisation) == (
        "Alice Liddell", "new@example.org", "Wonderland Museum")


def test_edit_errors(client, alice):
    logout(client)
    register(client, "bob")
    logout(client)
    login(client, "alice")
    for data, message in [
        ({"email": "nope"}, "Enter a valid e-mail address"),
        ({"email": ""}, "Enter your e-mail address."),
        ({"email": "bob@example.org"}, "This e-mail address is already registered."),
        ({"email": "a@example.org", "organisation": "o" * 101}, "At most 100 characters."),
    ]:
        resp = post(client, "/account", data)
        assert resp.status_code == 400 and message in resp.text, message
    with db.connection():
        assert db.get_user(alice.id).email == "alice@example.org"


def test_password_change_errors(client, alice):
    new = "Brand-New-Secret-9"
    for data, message in [
        ({"current_password": "wrong-one-123", "new_password": new, "confirm": new},
         "This is not your current password."),
        ({"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
         "at least 10 characters"),
        ({"current_password": PASSWORD, "new_password": "qwertyuiop", "confirm": "qwertyuiop"},
         "too common"),
        ({"current_password": PASSWORD, "new_password": new, "confirm": new + "x"},
         "The two passwords do not match."),
        ({"current_password": PASSWORD, "new_password": PASSWORD, "confirm": PASSWORD},
         "must differ"),
        ({"current_password": "", "new_password": "", "confirm": ""}, "Enter your current password."),
    ]:
        resp = post(client, "/account/password", data)
        assert resp.status_code == 400 and message in resp.text, message
    logout(client)
    assert login(client, "alice", PASSWORD).status_code == 302


def test_password_change_signs_out_other_sessions(client, app, alice):
    other = app.test_client()
    assert login(other, "alice").status_code == 302
    assert other.get("/menu").status_code == 200
    new = "Brand-New-Secret-9"
    resp = post(client, "/account/password",
                {"current_password": PASSWORD, "new_password": new, "confirm": new})
    assert resp.status_code == 302
    assert client.get("/menu").status_code == 200  # this session stays logged in
    assert other.get("/menu").status_code == 302  # the other one does not
    logout(client)
    assert login(client, "alice", PASSWORD).status_code == 401
    assert login(client, "alice", new).status_code == 302


def test_delete_account_needs_confirmation_and_password(client, config, alice):
    add_computation(config, alice.id)
    resp = post(client, "/account/delete", {"password": PASSWORD})
    assert resp.status_code == 400 and "Tick the box to confirm." in resp.text
    resp = post(client, "/account/delete", {"password": "wrong-pass-1", "confirm": "y"})
    assert resp.status_code == 400 and "This is not your password." in resp.text
    with db.connection():
        assert db.get_user(alice.id) is not None
        assert db.count_computations(alice.id) == 1


def test_delete_account_removes_rows_files_and_session(client, app, config, alice):
    comps = [add_computation(config, alice.id, title=f"c{i}") for i in range(3)]
    files = [config.data_dir / p for c in comps for p in (c.original_path, c.annotated_path)]
    assert all(f.exists() for f in files)
    other = app.test_client()
    register(other, "bob")
    with db.connection():
        bob = db.get_user_by_username("bob")
    bob_comp = add_computation(config, bob.id)

    resp = post(client, "/account/delete", {"password": PASSWORD, "confirm": "y"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert "Your account and all its data have been deleted." in client.get("/").text
    assert not any(f.exists() for f in files)
    assert not (config.data_dir / "uploads" / str(alice.id)).exists()
    with db.connection():
        assert db.get_user(alice.id) is None
        assert db.Computation.select().where(db.Computation.owner == alice.id).count() == 0
        assert db.get_computation(bob.id, bob_comp.id) is not None
    assert (config.data_dir / bob_comp.annotated_path).exists()
    assert client.get("/menu").status_code == 302
    assert login(client, "alice").status_code == 401
