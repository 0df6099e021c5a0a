"""Helpers for the JSON API tests (importable thanks to conftest's sys.path entry)."""
from __future__ import annotations

import httpx

import db
from app_testlib import PASSWORD


def make_user(config, name: str) -> int:
    from portal.security import hash_password

    with db.connection():
        return db.create_user(name, f"{name}@example.org",
                              hash_password(PASSWORD, config.password_hash_method)).id


def login(server, name: str) -> httpx.Client:
    """A client for ``name`` authenticated the OAuth2 way (POST /api/v1/token)."""
    r = httpx.post(f"{server.url}/api/v1/token", data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "bearer"
    return httpx.Client(base_url=f"{server.url}/api/v1", timeout=60,
                        headers={"Authorization": f"Bearer {r.json()['access_token']}"})
