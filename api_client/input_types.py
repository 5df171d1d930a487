"""The types the bodies a client sends are made of (`api_client.models.Incoming`): text with a
length limit and no NUL or lone surrogate, datetimes as ISO text within their windows, enums read
by value. The limits themselves are `api_client.domain.bounds`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, cast

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    GetCoreSchemaHandler,
    Strict,
    StringConstraints,
)
from pydantic_core import CoreSchema, PydanticCustomError

from api_client.domain import bounds
from api_client.domain.deadlines import Tier


def _no_bad_character(value: str) -> str:
    if bounds.has_bad_character(value):
        raise PydanticCustomError(
            "invalid_character", "Text must not contain NUL characters or lone surrogates"
        )
    return value


#: Text a client sends holds no NUL and no lone surrogate (`bounds.has_bad_character`).
_CHECKED = AfterValidator(_no_bad_character)

# Every text a client sends has a length limit (`api_client.domain.bounds`). Text that must not be
# blank says so in its schema too (`pattern`): it is stripped before its length is counted.
#: (Python's `strip` also takes the separators U+001C–U+001F and NEL, which a JSON Schema's `\S`
#: (ECMAScript) does not count as space: the pattern names them, so both sides agree on "blank".)
_NOT_BLANK = r"[^\s\x1c-\x1f\x85]"
#: Text a person must type (a reason, a note): stripped, never empty.
RequiredText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=bounds.MAX_TEXT, pattern=_NOT_BLANK),
    _CHECKED,
]
#: Free text that may be empty.
OptionalText = Annotated[str, StringConstraints(max_length=bounds.MAX_TEXT), _CHECKED]
#: An identifier: a unit id, a community id, a category code.
Identifier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=bounds.MAX_ID, pattern=_NOT_BLANK),
    _CHECKED,
]
#: An identifier that may be empty (unknown).
OptionalIdentifier = Annotated[str, StringConstraints(max_length=bounds.MAX_ID), _CHECKED]
#: A person's name.
Name = Annotated[str, StringConstraints(max_length=bounds.MAX_NAME), _CHECKED]
#: A phone number as typed.
Phone = Annotated[str, StringConstraints(max_length=bounds.MAX_PHONE), _CHECKED]
#: A street or a compound.
Street = Annotated[str, StringConstraints(max_length=bounds.MAX_STREET), _CHECKED]
#: An address.
Address = Annotated[str, StringConstraints(max_length=bounds.MAX_ADDRESS), _CHECKED]
#: Why a dispatcher asks for personal data: stripped, may be empty.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=bounds.MAX_REASON), _CHECKED]

_NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*")


def _datetime_text(value: object) -> object:
    """A datetime travels as ISO 8601 text: a number, or text holding one, is not a datetime."""
    if isinstance(value, bool | int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise PydanticCustomError(
            "datetime_type", "Input should be a datetime as ISO 8601 text with a timezone"
        )
    return value


def _within(value: datetime, window: tuple[datetime, datetime]) -> datetime:
    if not bounds.in_window(value, window):
        low, high = (end.isoformat(timespec="seconds") for end in window)
        raise PydanticCustomError(
            "datetime_out_of_range", "Input should be between {min} and {max}", {"min": low, "max": high}
        )
    return value


def _happened(value: datetime) -> datetime:
    return _within(value, bounds.received_window(datetime.now(UTC)))


def _due(value: datetime) -> datetime:
    return _within(value, bounds.due_window(datetime.now(UTC)))


def _filter(value: datetime) -> datetime:
    return _within(value, bounds.filter_window(datetime.now(UTC)))


#: A datetime a client sends: ISO 8601 text with a timezone (also in strict models, where
#: FastAPI hands the text over as a Python string).
ClientDatetime = Annotated[AwareDatetime, Strict(False), BeforeValidator(_datetime_text)]
#: When something happened (a call received, a report's bounds): in `bounds.received_window`.
HappenedAt = Annotated[ClientDatetime, AfterValidator(_happened)]
#: A due time: in `bounds.due_window`.
DueAt = Annotated[ClientDatetime, AfterValidator(_due)]
#: A filter's bound on when requests were received: in `bounds.filter_window`.
FilterAt = Annotated[ClientDatetime, AfterValidator(_filter)]


class WireEnum(StrEnum):
    """An enum read by its value, in strict models too (FastAPI hands a JSON body to the models
    as Python values, where strict mode would want the enum's members)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[Any], handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = handler(source)
        return cast(CoreSchema, {**schema, "strict": False}) if schema["type"] == "enum" else schema


#: The domain's tier, read by its value in strict models.
WireTier = Annotated[Tier, Strict(False)]
