"""Password rules and hashing.

A password is refused when it is too short/long, on the list of common
passwords (common_passwords.txt), contains the username or e-mail name, or
when zxcvbn (a maintained strength estimator that knows common passwords,
names, keyboard patterns, dates and l33t spellings) scores it below
``MIN_STRENGTH`` (3 of 4: about 10^8 guesses or more).

Hashes are stored in werkzeug's format (``scrypt:32768:8:1$salt$hex``, ``pbkdf2:sha256:N$salt$hex``),
computed here with the standard library so that accounts need no web framework; hashes made by
werkzeug verify here and the other way round (tests/portal/test_security.py).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from pathlib import Path

MIN_PASSWORD = 10
MAX_PASSWORD = 128
MIN_STRENGTH = 3  # zxcvbn score 0-4
ADVICE = ("Use a longer passphrase: three or four unrelated words, or a password "
          "manager's random password.")
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
_common: frozenset[str] | None = None


def common_passwords() -> frozenset[str]:
    global _common
    if _common is None:
        words = _COMMON_FILE.read_text(encoding="utf-8").split()
        _common = frozenset(w.strip().lower() for w in words if w.strip())
    return _common


def password_problem(password: str, username: str = "", email: str = "") -> str | None:
    """Why ``password`` is not acceptable, or None if it is."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    low = password.lower()
    if low in common_passwords() or len(set(low)) < 4:
        return "This password is too common or too easy to guess; choose another."
    for word in (username.lower(), email.lower().split("@")[0]):
        if len(word) >= 3 and word in low:
            return "The password must not contain your username or e-mail name."
    return _strength_problem(password, [username, email])


def _strength_problem(password: str, user_inputs: list[str]) -> str | None:
    from zxcvbn import zxcvbn
    result = zxcvbn(password, user_inputs=[w for w in user_inputs if w])
    if result["score"] >= MIN_STRENGTH:
        return None
    warning = (result.get("feedback") or {}).get("warning") or ""
    reason = f" ({warning.rstrip('.')})" if warning else ""
    return f"This password is too easy to guess{reason}. {ADVICE}"


SALT_CHARS = string.ascii_letters + string.digits
PBKDF2_ITERATIONS = 1_000_000  # werkzeug 3.1's default for "pbkdf2" without a count


def _digest(method: str, salt: str, password: str) -> tuple[str, str]:
    """``(hex digest, full method)`` of werkzeug's ``_hash_internal``; ValueError for an unknown method."""
    name, *args = method.split(":")
    secret, salt_b = password.encode(), salt.encode()
    if name == "scrypt":
        n, r, p = (int(a) for a in args) if args else (2 ** 15, 8, 1)
        digest = hashlib.scrypt(secret, salt=salt_b, n=n, r=r, p=p, maxmem=132 * n * r * p)
        return digest.hex(), f"scrypt:{n}:{r}:{p}"
    if name == "pbkdf2":
        hash_name = args[0] if args else "sha256"
        iterations = int(args[1]) if len(args) > 1 else PBKDF2_ITERATIONS
        return hashlib.pbkdf2_hmac(hash_name, secret, salt_b, iterations).hex(), f"pbkdf2:{hash_name}:{iterations}"
    raise ValueError(f"unknown password hash method {name!r}: use scrypt or pbkdf2")


def hash_password(password: str, method: str = "scrypt") -> str:
    salt = "".join(secrets.choice(SALT_CHARS) for _ in range(16))
    digest, full_method = _digest(method, salt, password)
    return f"{full_method}${salt}${digest}"


def verify_password(password_hash: str, password: str) -> bool:
    try:
        method, salt, digest = password_hash.split("$", 2)
        return hmac.compare_digest(_digest(method, salt, password)[0], digest)
    except (ValueError, TypeError, AttributeError):
        return False
