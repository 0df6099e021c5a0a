"""Who is asking: ``Authorization: Bearer <token>`` (a personal access token from the Account
page, or a short-lived one from ``POST /api/v1/token``), and whether the token's scope
(:mod:`portal.accounts.tokens`) allows this request.

    from portal.api.auth import current_user
    @router.get("/things")
    def things(user: db.User = Depends(current_user)): ...    # 401 for anyone else, 403 for
                                                              # a scope that does not allow it
"""
from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer, OAuth2PasswordRequestForm

import db
from db import observations, tokens
from portal.accounts import tokens as access
from portal.accounts.passwords import verify_password
from portal.api.context import ApiContext, get_ctx
from portal.api.schemas import TokenOut, declared
from portal.http import forwarded_client, proxy_networks

log = logging.getLogger(__name__)
router = APIRouter(tags=["authentication"])

oauth2 = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)  # resolves to /api/v1/token
bearer = HTTPBearer(auto_error=False, description="a personal access token (Account page)")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def current_grant(request: Request, oauth_token: str | None = Depends(oauth2),
                  credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> access.Grant:
    """The bearer token's grant; 401 without a valid token, 403 when its scope does not allow
    this route (a kiosk token: also a session at another exhibit)."""
    token = oauth_token or (credentials.credentials if credentials else None)
    if not token:
        raise HTTPException(401, "not authenticated: send 'Authorization: Bearer <token>'",
                            headers=CHALLENGE)
    with db.connection():
        grant = access.grant_for(token)
        if grant is None:
            raise HTTPException(401, "the token is invalid, expired or revoked", headers=CHALLENGE)
        route = getattr(request.scope.get("route"), "path", request.url.path)
        problem = access.refusal(grant, request.method, route) or _kiosk_session(grant, request)
    if problem:
        raise HTTPException(403, problem)
    return grant


def _kiosk_session(grant: access.Grant, request: Request) -> str | None:
    """A kiosk token's session must be at its exhibit (someone else's session stays 404)."""
    session_id = request.path_params.get("session_id")
    if grant.scope != "kiosk" or session_id is None:
        return None
    sess = observations.get_session(grant.user.id, session_id)
    return None if sess is None else access.exhibit_refusal(grant, sess.exhibit_id)


def current_user(grant: access.Grant = Depends(current_grant)) -> db.User:
    """The user the bearer token belongs to (see :func:`current_grant`)."""
    return grant.user


@router.post("/token", response_model=TokenOut, summary="Log in (OAuth2 password flow)",
             responses=declared(described={401: "wrong name or password", 429: "too many failed logins"}))
def issue_token(request: Request, form: OAuth2PasswordRequestForm = Depends(),
                ctx: ApiContext = Depends(get_ctx)) -> TokenOut:
    """Exchange a username (or e-mail) and password for a bearer token valid for
    ``API_TOKEN_TTL_S`` seconds, with the ``full`` scope, or ``read`` when the form's ``scope``
    says so.  Failed attempts count towards the portal's login limit.  ``POST /token/revoke``
    (log-out), a password change and a portal log-out revoke it."""
    scope = _login_scope(form.scopes)
    peer = request.client.host if request.client else "unknown"
    address = forwarded_client(peer, request.headers.get("x-forwarded-for"), ctx.config.proxy_count,
                               proxy_networks(ctx.config.trusted_proxies))  # behind nginx: the client
    with db.connection():
        user = db.get_user_by_login(form.username)
        account = ctx.limiter.account(form.username, user.id if user else None)
        valid, wait = ctx.limiter.attempt(address, account, lambda: verify_password(
            user.password_hash if user else ctx.dummy_hash, form.password) and user is not None)
        if wait:
            raise HTTPException(429, f"too many failed logins; try again in {wait} s",
                                headers={"Retry-After": str(wait)})
        if not valid:
            log.info("API token refused: wrong username or password")
            raise HTTPException(401, "wrong username or password", headers=CHALLENGE)
        token, _ = tokens.create_token(user.id, kind="login", name="POST /api/v1/token",
                                       expires_in=ctx.museum.token_ttl_s, scope=scope)
    log.info("API token issued user_id=%d scope=%s", user.id, scope)
    return TokenOut(access_token=token, expires_in=ctx.museum.token_ttl_s, scope=scope)


def _login_scope(requested: list[str]) -> str:
    if not requested:
        return "full"
    if len(requested) == 1 and requested[0] in ("read", "full"):
        return requested[0]
    raise HTTPException(422, "scope must be 'read' or 'full' (a kiosk token is created on the "
                             "Account page, for one exhibit)")


@router.post("/token/revoke", status_code=204, summary="Log out: revoke this token")
def revoke(grant: access.Grant = Depends(current_grant)) -> None:
    """Revoke the token that authenticates this request (a login token or a personal access
    token); it is refused from now on."""
    with db.connection():
        tokens.revoke_token(grant.user.id, grant.token_id)
    log.info("API token revoked by its holder user_id=%d token_id=%d", grant.user.id, grant.token_id)
