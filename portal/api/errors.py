"""Every error of the JSON API is JSON ``{"detail": ...}``; nothing escapes as a traceback."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from portal.museum.visits import hide_code

log = logging.getLogger(__name__)


def register(api: FastAPI) -> None:
    @api.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @api.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        log.exception("API error on %s %s", request.method, hide_code(request.url.path))
        return JSONResponse({"detail": "internal server error"}, status_code=500)
