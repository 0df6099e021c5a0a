"""Password hashes made without werkzeug keep werkzeug's format, both ways (accounts/ imports no web framework)."""
import pytest
from werkzeug.security import check_password_hash, generate_password_hash

from portal.accounts.passwords import hash_password, verify_password


@pytest.mark.parametrize("method", ["scrypt", "pbkdf2:sha256:1000", "pbkdf2:sha512:2000"])
def test_hashes_verify_in_both_directions_with_werkzeug(method):
    ours = hash_password("correct horse battery", method)
    assert ours.startswith(method.split(":")[0]) and ours.count("$") == 2
    assert check_password_hash(ours, "correct horse battery")
    assert not check_password_hash(ours, "correct horse batterY")
    theirs = generate_password_hash("correct horse battery", method=method)
    assert verify_password(theirs, "correct horse battery")
    assert not verify_password(theirs, "wrong")


def test_scrypt_hash_names_its_parameters_and_salts_differ():
    first, second = hash_password("same password"), hash_password("same password")
    assert first.startswith("scrypt:32768:8:1$") and first != second


@pytest.mark.parametrize("stored", ["", "plain", "md5$salt$abc", "scrypt:x$salt$00", None, "pbkdf2:sha256:1000$s"])
def test_malformed_or_unknown_hashes_never_verify(stored):
    assert verify_password(stored, "anything") is False


def test_an_unknown_method_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="use scrypt or pbkdf2"):
        hash_password("x" * 12, "md5")
