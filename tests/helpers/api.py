"""Helpers for the JSON API tests: users, tokens and httpx clients."""
from __future__ import annotations

import re

import httpx

import db
from tests.helpers import PASSWORD, TOKEN_RE


def make_user(config, name: str) -> int:
    from portal.accounts.passwords import hash_password

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


def portal_login(url: str, name: str) -> httpx.Client:
    """A browser-like client of the portal (``url``: the server's root), logged in as ``name``."""
    client = httpx.Client(base_url=url, timeout=60, follow_redirects=False)
    m = TOKEN_RE.search(client.get("/login").text)
    r = client.post("/login", data={"login": name, "password": PASSWORD,
                                    "csrf_token": m.group(1) or m.group(2)})
    assert r.status_code == 302, r.text
    return client


def csrf(client: httpx.Client, page: str) -> str:
    m = TOKEN_RE.search(client.get(page).text)
    return m.group(1) or m.group(2)


def create_token(web: httpx.Client, name: str, scope: str = "full", exhibit_id: int = 0,
                 password: str = PASSWORD) -> httpx.Response:
    """Create a personal access token on the Account > API tokens page, as a person would."""
    return web.post("/account/tokens", data={
        "name": name, "scope": scope, "exhibit_id": str(exhibit_id), "password": password,
        "csrf_token": csrf(web, "/account/tokens")})


def new_token(web: httpx.Client, *args, **kwargs) -> str:
    r = create_token(web, *args, **kwargs)
    assert r.status_code == 200, r.text
    return re.search(r'id="new-token">([^<]+)<', r.text).group(1)


def bearer(server, token: str) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/api/v1", timeout=60,
                        headers={"Authorization": f"Bearer {token}"})
