"""Reading the central API's success answers: JSON bodies validated against the wire contract, a
failure being an `InvalidResponse` naming the field; and change pages sent as lines."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
import orjson
from pydantic import TypeAdapter, ValidationError

from api_client.errors import InvalidResponse
from api_client.models import ChangeLinesHead, PulledPage, RequestStamp

T = TypeVar("T")

_LINES_HEAD = TypeAdapter(ChangeLinesHead)
_STAMP = TypeAdapter(RequestStamp)


def decode(response: httpx.Response, adapter: TypeAdapter[T], what: str) -> T:
    """Validate a success answer's JSON body with `adapter`."""
    return validate(adapter, json_body(response, what), what, status=response.status_code)


def content_type(response: httpx.Response) -> str:
    """The answer's media type, lower case, without parameters."""
    value: str = response.headers.get("Content-Type", "")
    return value.partition(";")[0].strip().lower()


def page_from_lines(response: httpx.Response, what: str) -> PulledPage:
    """A change page sent as lines (see `ChangeLinesHead`): the head validated, each request
    line validated as a `RequestStamp` (which also proves it one well-formed JSON object)."""
    status = response.status_code
    first, _, rest = response.content.partition(b"\n")
    head = validate_json(_LINES_HEAD, first, what, status=status)
    lines = rest.split(b"\n")
    if lines[-1] == b"":  # the newline that ends the last line
        lines.pop()
    if len(lines) != len(head.changes):
        raise InvalidResponse(
            f"the central API sent an invalid answer to {what}: {len(lines)} request lines for"
            f" {len(head.changes)} changes",
            field="changes",
            status=status,
        )
    stamps = [
        validate_json(_STAMP, line, what, status=status, at=f"changes.{i}.request")
        for i, line in enumerate(lines)
    ]
    return PulledPage(
        seqs=[seq for seq, _action in head.changes],
        stamps=stamps,
        requests=lines,
        next_since=head.next_since,
        head=head.head,
        has_more=head.has_more,
    )


def json_body(response: httpx.Response, what: str) -> Any:
    """A success answer's JSON body, parsed (an InvalidResponse unless it is JSON)."""
    kind = content_type(response)
    if kind != "application/json" and not kind.endswith("+json"):
        raise InvalidResponse(
            f"the central API answered {what} with {kind or 'no content type'} instead of JSON",
            status=response.status_code,
        )
    return parse_json(response, what)


def parse_json(response: httpx.Response, what: str) -> Any:
    """The answer's body parsed as JSON, whatever its content type (an InvalidResponse if it
    is not JSON)."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise InvalidResponse(
            f"the central API answered {what} with malformed JSON ({exc})", status=response.status_code
        ) from exc


def validate(adapter: TypeAdapter[T], data: object, what: str, *, status: int | None = None) -> T:
    """`adapter.validate_python(data)`, a failure being an InvalidResponse naming the field."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise _invalid_answer(exc, what, status, "") from exc


def validate_json(
    adapter: TypeAdapter[T], data: bytes, what: str, *, status: int | None = None, at: str = ""
) -> T:
    """`adapter.validate_json(data)`, a failure (malformed JSON too) being an InvalidResponse
    naming the field (under `at`, a dotted path)."""
    try:
        return adapter.validate_json(data)
    except ValidationError as exc:
        raise _invalid_answer(exc, what, status, at) from exc


def _invalid_answer(exc: ValidationError, what: str, status: int | None, at: str) -> InvalidResponse:
    first = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join([*([at] if at else []), *(str(part) for part in first["loc"])])
    where = f"field '{field}'" if field else "the body"
    return InvalidResponse(
        f"the central API sent an invalid answer to {what}: {where}: {first['msg']}",
        field=field,
        status=status,
    )
