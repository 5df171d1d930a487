"""Small HTTP helpers shared by the /v1 routes: ETags, If-Match, idempotency keys, JSON bodies."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header
from fastapi.responses import Response

from api_client.domain.bounds import IDEMPOTENCY_KEY_MAX, IDEMPOTENCY_KEY_MIN
from api_client.domain.bounds import MAX_INT as MAX_INT
from api_client.models import Request
from central_api.errors import ApiError
from central_api.openapi import IF_MATCH_PATTERN
from central_api.store import Outcome

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=IDEMPOTENCY_KEY_MIN,
        max_length=IDEMPOTENCY_KEY_MAX,
        pattern=r"^[\x20-\x7e]*$",  # printable ASCII: `api_client.domain.bounds.is_idempotency_key`
        description="A client-made key (1..200 printable ASCII characters); a repeated call returns the "
        "first result.",
    ),
]

_IF_MATCH = re.compile(IF_MATCH_PATTERN)


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int:
    """The version of an `If-Match` header: `"3"`, `3` or `W/"3"`. 428 when absent, 400 when bad."""
    if value is None or not value.strip():
        raise ApiError(
            428,
            "precondition_required",
            'An action needs If-Match: "<version>" (the version of the request you acted on).',
        )
    match = _IF_MATCH.match(value.strip())
    if match is None:
        raise ApiError(
            400,
            "invalid_if_match",
            f'If-Match must be a version like "3" (a quoted number), not {value!r}.',
            {"value": value},
        )
    return int(match.group(1) or match.group(2))


def json_response(body: str | bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response from JSON that is already serialized."""
    return Response(content=body, status_code=status, media_type="application/json", headers=headers)


def request_response(request: Request, *, status: int = 200, replayed: bool = False) -> Response:
    """A `Request` with its ETag (and `Idempotent-Replayed: true` for a replay)."""
    headers = {"ETag": etag(request.version)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(request.model_dump_json(), status=status, headers=headers)


def outcome_response(outcome: Outcome, *, status: int = 200) -> Response:
    return request_response(outcome.request, status=status, replayed=outcome.replayed)
