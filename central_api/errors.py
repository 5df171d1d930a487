"""Error responses: every refusal becomes a clear 4xx body, never a 500 for bad input.

`/v1` errors are `{"code": "<snake_case>", "detail": "<one English sentence>", "params": {...}}`:
`code` is a stable identifier a client maps to its own words, `params` the sentence's variable
parts. Validation errors (422) add `"errors": [{"field", "message", "code", "params"}]`, each
`code` being pydantic's error type (or a validator's own) and `params` its context; malformed JSON
or a body that is not an object is 400. A stale version (412) adds `current`. Under `/open311/`
errors are a GeoReport list `[{"code": N, "description": ...}]`, and validation errors are 400
there.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, HTTPException
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
    RuleClash,
    RuleNotFound,
    RuleVersionMismatch,
    RuleVersionRequired,
    ScopeRefused,
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
    ScopeRefused: 403,
    RuleNotFound: 404,
    VersionMismatch: 412,
    RuleVersionMismatch: 412,
    RuleVersionRequired: 428,
    RuleClash: 409,
    IdempotencyMismatch: 422,
    InvalidInput: 422,
}
#: The code of an HTTP error the framework raised itself (an unknown route, a wrong method).
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


class ApiError(HTTPException):
    """A refusal raised by a route or a dependency: its status, code, sentence and params."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        params: Mapping[str, object] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=dict(headers) if headers else None)
        self.code = code
        self.params: dict[str, object] = dict(params or {})


def is_open311(path: str) -> bool:
    return path.startswith(OPEN311_PREFIX)


def error_response(
    path: str,
    status: int,
    code: str,
    detail: str,
    params: Mapping[str, object] | None = None,
    *,
    extra: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The error body for `path`: the /v1 shape, or a GeoReport list under /open311/. Text that
    no JSON document can hold (a lone surrogate) is replaced, so an error never fails to render."""
    detail = _text(detail)
    if is_open311(path):
        return JSONResponse(
            [{"code": 400 if status == 422 else status, "description": detail}],
            status_code=400 if status == 422 else status,
            headers=headers,
        )
    content: dict[str, object] = {"code": code, "detail": detail, "params": json_value(dict(params or {}))}
    if extra:
        content.update({key: json_value(value) for key, value in extra.items()})
    return JSONResponse(content, status_code=status, headers=headers)


def _text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def json_value(value: object) -> object:
    """`value` as a JSON value: containers kept, anything that is not JSON as its text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_value(v) for v in value]
    return str(value)


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
    return str(error.get("msg", "invalid"))


def _problem(error: Mapping[str, Any], path: str) -> dict[str, object]:
    """One item of a 422's `errors`: the field, pydantic's message, its type as the code and
    its context as the params."""
    params = json_value(error.get("ctx") or {})
    return {
        "field": _field(error, path),
        "message": _message(error),
        "code": str(error.get("type", "invalid")),
        "params": params if isinstance(params, dict) else {},
    }


def _is_json(request: HttpRequest) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _body_refusal(request: HttpRequest, errors: list[Any]) -> Response | None:
    """The 400 for a body that is not JSON, or not a JSON object; None for field errors."""
    path = request.url.path
    for error in errors:
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            loc = error.get("loc", ())
            position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
            where = f" at position {position}" if position is not None else ""
            return error_response(
                path,
                400,
                "malformed_json",
                f"Malformed JSON{where}: {ctx.get('error', 'cannot parse')}.",
                {"position": position},
            )
    for error in errors:
        if tuple(error.get("loc", ())) == ("body",) and error.get("type") in _NOT_AN_OBJECT:
            if error.get("type") == "missing":
                return error_response(path, 400, "body_required", "A JSON object body is required.")
            if not _is_json(request) and not is_open311(path):
                content_type = request.headers.get("content-type", "")
                return error_response(
                    path,
                    400,
                    "body_not_json",
                    "Send the body as JSON (Content-Type: application/json).",
                    {"content_type": content_type},
                )
            return error_response(path, 400, "body_not_object", "The body must be a JSON object.")
    return None


async def validation_handler(request: HttpRequest, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    path = request.url.path
    errors = list(exc.errors())
    refusal = _body_refusal(request, errors)
    if refusal is not None:
        return refusal
    items = [_problem(e, path) for e in errors]
    first = items[0] if items else {"field": "body", "message": "invalid", "code": "invalid", "params": {}}
    detail = f"{first['field']}: {first['message']}"
    return error_response(
        path, 422, "invalid_field", detail, {"field": first["field"]}, extra={"errors": items}
    )


async def http_handler(request: HttpRequest, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status < 200 or status in (204, 304):
        return Response(status_code=status, headers=exc.headers)
    if is_open311(request.url.path) and isinstance(exc.detail, list):  # already a GeoReport list
        return JSONResponse(exc.detail, status_code=status, headers=exc.headers)
    if isinstance(exc, ApiError):
        code, params = exc.code, exc.params
    else:
        code = _HTTP_CODES.get(status, "http_error")
        params = {} if status in _HTTP_CODES else {"status": status}
    return error_response(request.url.path, status, code, str(exc.detail), params, headers=exc.headers)


async def store_error_handler(request: HttpRequest, exc: Exception) -> Response:
    assert isinstance(exc, StoreError)
    path = request.url.path
    status = next((code for cls, code in _STORE_STATUS.items() if isinstance(exc, cls)), 422)
    if isinstance(exc, VersionMismatch | RuleVersionMismatch):  # 412: the body carries `current`
        current = exc.current
        return error_response(
            path,
            status,
            exc.code,
            str(exc),
            exc.params,
            extra={"current": current.model_dump(mode="json") if current is not None else None},
            headers={"ETag": f'"{current.version}"'} if current is not None else None,
        )
    return error_response(path, status, exc.code, str(exc), exc.params)


async def transition_handler(request: HttpRequest, exc: Exception) -> Response:
    assert isinstance(exc, TransitionRefused)
    return error_response(request.url.path, 409, exc.code, str(exc), exc.params)  # the state machine's


async def unexpected_handler(request: HttpRequest, exc: Exception) -> Response:
    """500. The server then drops the connection (the exception goes on to it): `Connection:
    close` tells the client not to send its next call on it."""
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        request.url.path, 500, "internal_error", "Internal server error.", headers={"Connection": "close"}
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_exception_handler(StarletteHTTPException, http_handler)
    app.add_exception_handler(StoreError, store_error_handler)
    app.add_exception_handler(TransitionRefused, transition_handler)
    app.add_exception_handler(Exception, unexpected_handler)
