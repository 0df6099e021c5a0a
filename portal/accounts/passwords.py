"""Password rules and hashing.

A password is refused when it is too short/long, on the list of common
passwords (common_passwords.txt), contains the username or e-mail name, or
when zxcvbn (a maintained strength estimator that knows common passwords,
names, keyboard patterns, dates and l33t spellings) scores it below
``MIN_STRENGTH`` (3 of 4: about 10^8 guesses or more).
"""
from __future__ import annotations

from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

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


def hash_password(password: str, method: str = "scrypt") -> str:
    return generate_password_hash(password, method=method)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return check_password_hash(password_hash, password)
    except (ValueError, TypeError):
        return False
