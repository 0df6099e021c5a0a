"""Who is asking: ``Authorization: Bearer <token>`` (a personal access token from the Account
page, or a short-lived one from ``POST /api/v1/token``).

    from portal.api.auth import current_user
    @router.get("/things")
    def things(user: db.User = Depends(current_user)): ...    # 401 for anyone else
"""
from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import (HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer,
                              OAuth2PasswordRequestForm)

import db
from db import tokens
from portal.ratelimit import forwarded_client, proxy_networks
from portal.security import verify_password

from .context import ApiContext, get_ctx
from .schemas import TokenOut

log = logging.getLogger(__name__)
router = APIRouter(tags=["authentication"])

oauth2 = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)  # resolves to /api/v1/token
bearer = HTTPBearer(auto_error=False, description="a personal access token (Account page)")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def current_user(oauth_token: str | None = Depends(oauth2),
                 credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> db.User:
    """The user the bearer token belongs to; 401 without a valid token."""
    token = oauth_token or (credentials.credentials if credentials else None)
    if not token:
        raise HTTPException(401, "not authenticated: send 'Authorization: Bearer <token>'",
                            headers=CHALLENGE)
    with db.connection():
        user = tokens.user_for_token(token)
    if user is None:
        raise HTTPException(401, "the token is invalid, expired or revoked", headers=CHALLENGE)
    return user


@router.post("/token", response_model=TokenOut, summary="Log in (OAuth2 password flow)")
def issue_token(request: Request, form: OAuth2PasswordRequestForm = Depends(),
                ctx: ApiContext = Depends(get_ctx)) -> TokenOut:
    """Exchange a username (or e-mail) and password for a bearer token valid for
    ``API_TOKEN_TTL_S`` seconds.  Failed attempts count towards the portal's login limit."""
    peer = request.client.host if request.client else "unknown"
    address = forwarded_client(peer, request.headers.get("x-forwarded-for"), ctx.config.proxy_count,
                               proxy_networks(ctx.config.trusted_proxies))  # behind nginx: the client
    keys = (address, form.username.strip().lower()[:254])
    wait = ctx.limiter.retry_after(*keys)
    if wait:
        raise HTTPException(429, f"too many failed logins; try again in {wait} s",
                            headers={"Retry-After": str(wait)})
    with db.connection():
        user = db.get_user_by_login(form.username)
        valid = verify_password(user.password_hash if user else ctx.dummy_hash, form.password)
        if user is None or not valid:
            ctx.limiter.failed(*keys)
            log.info("API token refused: wrong username or password")
            raise HTTPException(401, "wrong username or password", headers=CHALLENGE)
        token, _ = tokens.create_token(user.id, kind="login", name="POST /api/v1/token",
                                       expires_in=ctx.museum.token_ttl_s)
    log.info("API token issued user_id=%d", user.id)
    return TokenOut(access_token=token, expires_in=ctx.museum.token_ttl_s)
