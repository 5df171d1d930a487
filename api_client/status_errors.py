"""A non-2xx answer of the central API as the exception of `api_client.errors` that it means.

The server's error body is `{"code", "detail", "params"}` (422 adds `errors`, 412 `current`); it
is read leniently, being used only for the exception's message, code and params."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from pydantic import Field, TypeAdapter, ValidationError

from api_client.decoding import parse_json, validate
from api_client.errors import (
    Conflict,
    FieldError,
    Forbidden,
    HotlineError,
    InvalidRequest,
    InvalidResponse,
    NotFound,
    RuleConflict,
    ServerError,
    Unauthorized,
)
from api_client.models import Outgoing, Request, RoutingRule
from api_client.retrying import retry_after

#: Statuses that mean "your input was refused" (the server's `detail` says why).
INVALID_REQUEST_STATUSES = frozenset({400, 409, 413, 414, 422, 428})
#: 403s that refuse one call's input, not the token: the outbox keeps them as refused conflicts.
REFUSED_FORBIDDEN_CODES = frozenset({"extension_needs_supervisor"})
#: Longest server sentence we put into a message.
_MAX_DETAIL = 500


class _FieldProblem(Outgoing):
    field: str = ""
    message: str = ""
    code: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class _ErrorBody(Outgoing):
    """The error body of every `/v1` route."""

    code: str | None = None
    detail: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    errors: list[_FieldProblem] = Field(default_factory=list)


class _ConflictBody(_ErrorBody):
    current: Request


class _RuleConflictBody(_ErrorBody):
    current: RoutingRule | None = None


_ERROR_BODY = TypeAdapter(_ErrorBody)
_CONFLICT_BODY = TypeAdapter(_ConflictBody)
_RULE_CONFLICT_BODY = TypeAdapter(_RuleConflictBody)


def status_error(response: httpx.Response, what: str, server: str) -> HotlineError:
    """The error for a non-2xx answer (after whatever retries were safe)."""
    status = response.status_code
    if status == 412 and " /v1/knowledge/" in what:  # the entry changed: its code says so
        return _invalid_request(status, _error_body(response))
    if status == 412:
        return _rule_conflict(response, what) if " /v1/routing-rules/" in what else _conflict(response, what)
    body = _error_body(response)
    detail, code, params = body.detail, body.code, body.params
    if status == 401:
        return Unauthorized(
            _sentence("the central API did not accept the token", detail),
            status=status,
            code=code,
            params=params,
        )
    if status == 403 and code in REFUSED_FORBIDDEN_CODES:
        return _invalid_request(status, body)
    if status == 403:
        return Forbidden(
            _sentence("your role may not do this", detail), status=status, code=code, params=params
        )
    if status == 404:
        return NotFound(_sentence("not found", detail), status=status, code=code, params=params)
    if status in INVALID_REQUEST_STATUSES:
        return _invalid_request(status, body)
    if status == 429:
        return ServerError(_busy_message(response, server), status=status, code=code, params=params)
    if status >= 500:
        return ServerError(
            _sentence(f"the central API at {server} failed (HTTP {status})", detail),
            status=status,
            code=code,
            params=params,
        )
    return InvalidResponse(f"unexpected answer HTTP {status} to {what}", status=status)


def _sentence(lead: str, detail: str) -> str:
    return f"{lead}: {detail}" if detail else lead


def _error_body(response: httpx.Response) -> _ErrorBody:
    """The error body, or an empty one when the server sent something else."""
    try:
        body = _ERROR_BODY.validate_python(orjson.loads(response.content))
    except (orjson.JSONDecodeError, ValidationError):
        return _ErrorBody()
    body.detail = body.detail.strip()[:_MAX_DETAIL]
    return body


def _invalid_request(status: int, body: _ErrorBody) -> InvalidRequest:
    problems = tuple(FieldError(p.field, p.message, p.code, p.params) for p in body.errors)
    detail = body.detail or f"the central API refused the input (HTTP {status})"
    message = detail
    if problems:
        listed = "; ".join(f"{p.field or 'body'}: {p.message}" for p in problems[:3])
        message = f"{detail} ({listed})"
    return InvalidRequest(
        message, status=status, detail=detail, errors=problems, code=body.code, params=body.params
    )


def _conflict(response: httpx.Response, what: str) -> Conflict:
    """412: someone changed the request first; the body carries its current state."""
    body = validate(_CONFLICT_BODY, parse_json(response, what), what, status=412)
    current = body.current
    message = (
        f"request {current.id} was changed by someone else (now version {current.version}); "
        "look at it again before acting"
    )
    return Conflict(message, current=current, status=412, code=body.code, params=body.params)


def _rule_conflict(response: httpx.Response, what: str) -> RuleConflict:
    """412 on a routing rule: it changed (or was deleted) since the version sent."""
    body = validate(_RULE_CONFLICT_BODY, parse_json(response, what), what, status=412)
    current = body.current
    if current is None:
        message = "the routing rule was deleted by someone else; read the rules again"
    else:
        message = (
            f"routing rule {current.id} was changed by {current.updated_by} (now version"
            f" {current.version}); read it again before changing it"
        )
    return RuleConflict(message, current=current, code=body.code, params=body.params)


def _busy_message(response: httpx.Response, server: str) -> str:
    wait = retry_after(response)
    later = f"in {wait:.0f} s" if wait is not None else "shortly"
    return f"the central API at {server} is too busy (HTTP 429); try again {later}"
