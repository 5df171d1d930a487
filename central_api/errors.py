"""Error responses: every refusal becomes a clear 4xx body, never a 500 for bad input.

`/v1` errors are `{"detail": "<one sentence>"}`; validation errors add
`"errors": [{"field": ..., "message": ...}]` (422; malformed JSON or a body that is not an
object is 400). Under `/open311/` errors are a GeoReport list `[{"code": N, "description": ...}]`,
and validation errors are 400 there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as HttpRequest
from starlette.responses import Response

from api_client.domain.lifecycle import ALLOWED_FROM, TransitionRefused
from central_api.store import (
    IdempotencyMismatch,
    InvalidInput,
    RequestNotFound,
    StoreError,
    UnitNotFound,
    VersionMismatch,
)

log = logging.getLogger(__name__)

OPEN311_PREFIX = "/open311/"
_SOURCES = ("body", "query", "header", "path", "cookie")
_ACTION_NAMES_IN_ORDER = list(ALLOWED_FROM)
_ACTION_NAMES = frozenset(_ACTION_NAMES_IN_ORDER)
#: pydantic error types meaning "the body as a whole is not a JSON object".
_NOT_AN_OBJECT = frozenset({"model_attributes_type", "model_type", "dict_type", "missing"})
#: pydantic error types of a discriminated union (the action's `action` field).
_UNION_TAG = frozenset({"union_tag_invalid", "union_tag_not_found"})
_STORE_STATUS: dict[type[StoreError], int] = {
    RequestNotFound: 404,
    UnitNotFound: 404,
    VersionMismatch: 412,
    IdempotencyMismatch: 422,
    InvalidInput: 422,
}


def is_open311(path: str) -> bool:
    return path.startswith(OPEN311_PREFIX)


def error_response(
    path: str,
    status: int,
    detail: object,
    *,
    extra: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The error body for `path`: the /v1 shape, or a GeoReport list under /open311/."""
    if is_open311(path):
        if status == 422:
            status = 400
        if isinstance(detail, list):  # already a GeoReport error list
            return JSONResponse(detail, status_code=status, headers=headers)
        return JSONResponse(
            [{"code": status, "description": str(detail)}], status_code=status, headers=headers
        )
    content: dict[str, object] = {"detail": detail}
    if extra:
        content.update(extra)
    return JSONResponse(content, status_code=status, headers=headers)


def _field(error: Mapping[str, Any], path: str) -> str:
    parts = list(error.get("loc", ()))
    source = parts.pop(0) if parts and parts[0] in _SOURCES else "body"
    if path.endswith("/actions") and len(parts) > 0 and parts[0] in _ACTION_NAMES:
        parts.pop(0)  # the tag of the action union, not a field
    if error.get("type") in _UNION_TAG:
        parts.append("action")
    return ".".join(str(p) for p in parts) or source


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") in _UNION_TAG:
        ctx = error.get("ctx") or {}
        known = ", ".join(_ACTION_NAMES_IN_ORDER)
        if "tag" in ctx:
            return f"unknown action {ctx['tag']!r}; expected one of: {known}"
        return f"missing; expected one of: {known}"
    message = str(error.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


def _is_json(request: HttpRequest) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


async def validation_handler(request: HttpRequest, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    path = request.url.path
    errors = list(exc.errors())
    for error in errors:
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            loc = error.get("loc", ())
            where = f" at position {loc[1]}" if len(loc) > 1 else ""
            return error_response(path, 400, f"Malformed JSON{where}: {ctx.get('error', 'cannot parse')}.")
    for error in errors:
        if tuple(error.get("loc", ())) == ("body",) and error.get("type") in _NOT_AN_OBJECT:
            if error.get("type") == "missing":
                return error_response(path, 400, "A JSON object body is required.")
            if not _is_json(request) and not is_open311(path):
                return error_response(path, 400, "Send the body as JSON (Content-Type: application/json).")
            return error_response(path, 400, "The body must be a JSON object.")
    items = [{"field": _field(e, path), "message": _message(e)} for e in errors]
    first = items[0] if items else {"field": "body", "message": "invalid"}
    detail = f"{first['field']}: {first['message']}"
    return error_response(path, 422, detail, extra={"errors": items})


async def http_handler(request: HttpRequest, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code < 200 or exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return error_response(request.url.path, exc.status_code, exc.detail, headers=exc.headers)


async def store_error_handler(request: HttpRequest, exc: Exception) -> Response:
    path = request.url.path
    if isinstance(exc, VersionMismatch):
        current = exc.current
        return error_response(
            path,
            412,
            str(exc),
            extra={"current": current.model_dump(mode="json")},
            headers={"ETag": f'"{current.version}"'},
        )
    status = next((code for cls, code in _STORE_STATUS.items() if isinstance(exc, cls)), 422)
    return error_response(path, status, str(exc))


async def transition_handler(request: HttpRequest, exc: Exception) -> Response:
    return error_response(request.url.path, 409, str(exc))  # the state machine's own words


async def unexpected_handler(request: HttpRequest, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request.url.path, 500, "Internal server error.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_exception_handler(StarletteHTTPException, http_handler)
    app.add_exception_handler(StoreError, store_error_handler)
    app.add_exception_handler(TransitionRefused, transition_handler)
    app.add_exception_handler(Exception, unexpected_handler)
