"""Errors in one shape, RFC 9457 problem details, naming the field to fix.

Every error the API returns is ``application/problem+json`` with ``type``, ``title``, ``status`` and ``detail``;
validation errors add ``errors``: one entry per bad field, with where it was (body, query, path) and why.
An unexpected failure answers 500 with a reference that is also in the server log; it never shows a traceback.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("iceberg.web")

TITLES = {400: "Bad request", 401: "Not signed in", 403: "Not allowed", 404: "Not found", 409: "Conflict",
          413: "Too large", 422: "Invalid request", 429: "Too many requests", 500: "Internal error",
          502: "Model failed", 503: "Not ready"}


def problem(status: int, detail: str, type_: str = "about:blank", **extensions: Any) -> JSONResponse:
    body = {"type": type_, "title": TITLES.get(status, "Error"), "status": status, "detail": detail, **extensions}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts[1:]) if parts and parts[0] in ("body", "query", "path", "header") else ".".join(parts)


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    response = problem(error.status_code, str(error.detail))
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": _field(e["loc"]) or "(body)", "in": str(e["loc"][0]) if e["loc"] else "body", "message": e["msg"]}
        for e in error.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, detail, "urn:iceberg:problem:invalid-request", errors=errors)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    reference = uuid.uuid4().hex[:12]
    log.exception("unexpected error %s on %s %s", reference, request.method, request.url.path)
    return problem(500, f"an unexpected error; quote reference {reference} to the operator", reference=reference)


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
