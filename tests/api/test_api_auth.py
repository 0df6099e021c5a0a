"""Authentication of the JSON API over real HTTP: 401 for anyone without a valid token,
the OAuth2 password flow, personal access tokens, JSON errors, offline docs."""
from __future__ import annotations

import httpx

import db
from db import tokens
from tests.helpers.api import make_user

# every route of the API, with a placeholder id
ROUTES = [("GET", "/analyses"), ("POST", "/analyses"), ("GET", "/analyses/1"),
          ("DELETE", "/analyses/1"), ("GET", "/analyses/1/image/annotated"),
          ("GET", "/analyses/1/json"), ("GET", "/analyses/1/pdf"),
          ("GET", "/organisations"), ("POST", "/organisations"), ("GET", "/organisations/1"),
          ("POST", "/organisations/1/invitations"), ("POST", "/invitations/abcdefghij/accept"),
          ("GET", "/organisations/1/members"), ("PATCH", "/organisations/1/members/bob"),
          ("DELETE", "/organisations/1/members/bob"), ("POST", "/organisations/1/transfer"),
          ("POST", "/token/revoke"),
          ("GET", "/exhibits"), ("POST", "/exhibits"), ("GET", "/exhibits/overview"),
          ("GET", "/exhibits/1"), ("PATCH", "/exhibits/1"), ("GET", "/exhibits/1/summary"),
          ("GET", "/exhibits/1/observations.csv"), ("POST", "/sessions"), ("GET", "/sessions/1"),
          ("POST", "/sessions/1/frames"), ("POST", "/sessions/1/stop"),
          ("POST", "/videos"), ("GET", "/videos/1"), ("DELETE", "/videos/1"),
          ("GET", "/videos/1/timeline.csv"), ("GET", "/videos/1/annotated.mp4"), ("POST", "/batches"),
          ("GET", "/batches/1"), ("GET", "/batches/1/summary.csv"), ("DELETE", "/batches/1"),
          ("GET", "/jobs/1"), ("POST", "/jobs/1/cancel"), ("POST", "/jobs/1/retry"),
          ("GET", "/exhibits/1/compare"), ("GET", "/organisations/1/ranking"), ("GET", "/videos"),
          ("GET", "/batches"), ("POST", "/visits")]
# the visit code is these routes' only credential (issue 21): no token, a wrong code answers 404
CODE_ROUTES = [("GET", "/visits/ABCD-EFGH-JKMN/suggestions"), ("DELETE", "/visits/ABCD-EFGH-JKMN")]


def test_every_route_refuses_anonymous_and_bad_tokens(server, anon):
    schema = anon.get("/openapi.json").json()
    listed = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert len(listed) == len(ROUTES) + len(CODE_ROUTES) + 1  # + POST /token
    for method, path in CODE_ROUTES:
        r = anon.request(method, path)
        assert r.status_code == 404 and r.json()["detail"], (method, path, r.status_code)
    for method, path in ROUTES:
        for headers in ({}, {"Authorization": "Bearer ec_not-a-token"},
                        {"Authorization": "Basic YWxpY2U6eA=="}):
            r = anon.request(method, path, headers=headers)
            assert r.status_code == 401, (method, path, headers, r.status_code)
            assert r.headers["www-authenticate"] == "Bearer"
            assert "token" in r.json()["detail"] or "authenticated" in r.json()["detail"]


def test_password_flow_wrong_password_and_lockout(server, config, anon):
    make_user(config, "alice")
    url = f"{server.url}/api/v1/token"
    r = httpx.post(url, data={"username": "alice", "password": "wrong"})
    assert r.status_code == 401 and r.json() == {"detail": "wrong username or password"}
    r = httpx.post(url, data={"username": "nobody", "password": "wrong"})
    assert r.status_code == 401
    assert httpx.post(url, data={"username": "alice"}).status_code == 422  # password missing
    assert httpx.post(url, json={"username": "alice", "password": "x"}).status_code == 422
    for _ in range(2):
        httpx.post(url, data={"username": "alice", "password": "wrong"})
    r = httpx.post(url, data={"username": "alice", "password": "Correct-Horse-42"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0  # 3 failures: locked


def test_login_token_and_personal_token_work_and_revocation_cuts_off(server, config, anon):
    alice = make_user(config, "alice")
    r = httpx.post(f"{server.url}/api/v1/token",
                   data={"username": "alice@example.org", "password": "Correct-Horse-42"})
    assert r.status_code == 200 and r.json()["expires_in"] > 0
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert anon.get("/analyses", headers=auth).status_code == 200
    with db.connection():
        pat, row = tokens.create_token(alice, name="Camera")
    auth = {"Authorization": f"Bearer {pat}"}
    assert anon.get("/analyses", headers=auth).json()["total"] == 0
    with db.connection():
        tokens.revoke_token(alice, row.id)
    assert anon.get("/analyses", headers=auth).status_code == 401


def test_errors_are_json_and_docs_are_served_without_a_cdn(server, anon, users):
    alice = users["alice"]
    r = alice.get("/no-such-route")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    r = alice.get("/analyses/not-a-number")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "analysis_id"]
    r = alice.post("/organisations", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "detail" in r.json()
    docs = anon.get("/docs")
    assert docs.status_code == 200
    assert "/api/v1/docs-assets/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text
    assert anon.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert anon.get("/openapi.json").json()["servers"] == [{"url": "/api/v1"}]
