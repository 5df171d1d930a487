"""What the server refuses in a request as it arrives, before any route reads it.

- text no database or UTF-8 document can hold (NUL, lone surrogates, bytes that are not UTF-8) in
  the path, the query, a form or a JSON body, its keys included (`invalid_character`, 422);
- a query longer than `bounds.MAX_QUERY_BYTES` (`query_too_long`, 414);
- an `Idempotency-Key` that is not 1..200 printable ASCII characters (`invalid_idempotency_key`);
- a JSON body that parsers may read differently or not at all: a key twice in one object
  (`duplicate_key`), `NaN`/`Infinity` or a number outside 64 bits (`invalid_number`), nesting
  deeper than `bounds.MAX_JSON_DEPTH` (`json_too_deep`), bytes that are not UTF-8.

Malformed JSON is left to the route, which says where it breaks (`malformed_json`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import unquote_to_bytes

from starlette.types import Scope

from api_client.domain import bounds


@dataclass(frozen=True, slots=True)
class Refusal:
    """An error answer: its status, code, sentence and params."""

    status: int
    code: str
    detail: str
    params: dict[str, object] = field(default_factory=dict)


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.detail)
        self.refusal = refusal


def _bad_character(where: str) -> Refusal:
    return Refusal(
        422,
        "invalid_character",
        f"{where}: text must be UTF-8 without NUL characters or lone surrogates.",
        {"field": where},
    )


def _shown(text: str, limit: int = 60) -> str:
    """`text` fit for an error body: short, and only characters any JSON document can hold."""
    return text[:limit].encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _text(raw: bytes) -> str | None:
    """`raw` as text, or None when it is not UTF-8 or holds a NUL."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def _pairs(raw: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The percent-decoded names and values of a query string or a form body."""
    for part in raw.split(b"&"):
        if part:
            name, _, value = part.partition(b"=")
            yield unquote_to_bytes(name.replace(b"+", b" ")), unquote_to_bytes(value.replace(b"+", b" "))


def check_form(raw: bytes, source: str = "") -> Refusal | None:
    """The refusal of a query string or a form body (`application/x-www-form-urlencoded`)."""
    for name, value in _pairs(raw):
        key = _text(name)
        if key is None:
            return _bad_character(source or "body")
        if _text(value) is None:
            return _bad_character(_shown(f"{source}.{key}" if source else key))
    return None


def check_target(scope: Scope) -> Refusal | None:
    """The refusal of a request's path, query string or idempotency key."""
    raw_path = scope.get("raw_path")
    path = raw_path.split(b"?", 1)[0] if isinstance(raw_path, bytes) else scope.get("path", "").encode()
    if _text(unquote_to_bytes(path)) is None:
        return _bad_character("path")
    query = scope.get("query_string", b"")
    if len(query) > bounds.MAX_QUERY_BYTES:
        return Refusal(
            414,
            "query_too_long",
            f"The query string is longer than {bounds.MAX_QUERY_BYTES} bytes.",
            {"limit": bounds.MAX_QUERY_BYTES},
        )
    refusal = check_form(query, "query")
    if refusal is not None:
        return refusal
    keys = [value for name, value in scope.get("headers", []) if name == b"idempotency-key"]
    if keys and (len(keys) > 1 or not bounds.is_idempotency_key(keys[0].decode("latin-1"))):
        low, high = bounds.IDEMPOTENCY_KEY_MIN, bounds.IDEMPOTENCY_KEY_MAX
        return Refusal(
            422,
            "invalid_idempotency_key",
            f"Idempotency-Key must be one header of {low}..{high} printable ASCII characters.",
            {"min_length": low, "max_length": high},
        )
    return None


def _invalid_number(text: str) -> NoReturn:
    raise _Refused(
        Refusal(
            400,
            "invalid_number",
            f"{_shown(text, 40)} is not a number this API accepts (finite, within 64 bits).",
            {"value": _shown(text, 40)},
        )
    )


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        _invalid_number(text)
    return value


def _int(text: str) -> int:
    if len(text) > 20 or abs(value := int(text)) > bounds.MAX_INT:
        _invalid_number(text)
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):
        seen: set[str] = set()
        twice = ""
        for key, _ in pairs:
            if key in seen:
                twice = key
                break
            seen.add(key)
        raise _Refused(
            Refusal(
                400,
                "duplicate_key",
                f"The key {_shown(twice)!r} appears twice in one JSON object.",
                {"key": _shown(twice)},
            )
        )
    return result


def _walk(document: object) -> Refusal | None:
    """The first string (or key) with a bad character, or nesting too deep, in a parsed body."""
    stack: list[tuple[object, str, int]] = [(document, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            if bounds.has_bad_character(value):
                return _bad_character(_shown(where or "body"))
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= bounds.MAX_JSON_DEPTH:
            return Refusal(
                400,
                "json_too_deep",
                f"The JSON body is nested deeper than {bounds.MAX_JSON_DEPTH} levels.",
                {"max_depth": bounds.MAX_JSON_DEPTH},
            )
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            place = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and bounds.has_bad_character(key):
                return _bad_character(_shown(place))
            stack.append((item, place, depth + 1))
    return None


def check_json(raw: bytes) -> Refusal | None:
    """The refusal of a JSON body; None when it is acceptable or malformed (the route says so)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Refusal(
            400,
            "malformed_json",
            f"Malformed JSON at position {exc.start}: the body is not UTF-8.",
            {"position": exc.start},
        )
    try:
        document = json.loads(
            text,
            object_pairs_hook=_object,
            parse_float=_float,
            parse_int=_int,
            parse_constant=_invalid_number,
        )
    except _Refused as refused:
        return refused.refusal
    except RecursionError:
        return Refusal(
            400,
            "json_too_deep",
            f"The JSON body is nested deeper than {bounds.MAX_JSON_DEPTH} levels.",
            {"max_depth": bounds.MAX_JSON_DEPTH},
        )
    except ValueError:
        return None
    return _walk(document)
