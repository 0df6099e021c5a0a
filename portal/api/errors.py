"""Every error of the JSON API is JSON ``{"detail": ...}``; nothing escapes as a traceback."""
from __future__ import annotations

import json
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


async def refuse_nul(request: Request) -> None:
    """422 naming the field when a query, path, form or JSON value holds a NUL character
    (PostgreSQL cannot store one; nothing is looked up or stored).  The body is the one FastAPI
    has already read for the route (never read here for a route that streams its body)."""
    fields = list(request.query_params.multi_items()) + list(request.path_params.items())
    if getattr(request.scope.get("route"), "body_field", None) is not None:
        kind = request.headers.get("content-type", "")
        if kind.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            fields += [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
        elif "json" in kind:
            fields += _json_fields(await request.body())
    bad = next((name for name, value in fields if "\x00" in str(name) + str(value)), None)
    if bad is not None:
        name = str(bad).replace("\x00", "\\0")
        raise HTTPException(422, f"'{name}' contains a NUL character (\\0); remove it and send again")


def _json_fields(body: bytes) -> list[tuple[str, object]]:
    try:
        value = json.loads(body or b"null")
    except ValueError:
        return []  # FastAPI has answered 422 already
    out, todo = [], [("body", value)]
    while todo:
        name, item = todo.pop()
        if isinstance(item, dict):
            todo += [(str(k), v) for k, v in item.items()] + [(name, k) for k in item]
        elif isinstance(item, list):
            todo += [(name, v) for v in item]
        else:
            out.append((name, item))
    return out
