"""What the database stores as text: JSON, token digests, and text it can hold at all."""

from __future__ import annotations

import hashlib

import orjson

from central_api.store import InvalidInput


def to_json(value: object) -> str:
    return orjson.dumps(value).decode()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def check_text(value: object) -> None:
    """Refuse NUL characters and lone surrogates anywhere in a body (PostgreSQL and UTF-8 cannot
    store them)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput("Text must not contain NUL characters.", code="text_has_nul")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(
                "Text must be valid Unicode (no lone surrogates).", code="text_not_unicode"
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            check_text(item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_text(item)
