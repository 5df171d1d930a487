"""What the OpenAPI document says of Open311 input: the query of `GET requests.json` and the form
of `POST requests.json`, as `central_api.open311.parsing` reads them.

A form value is text: blank means absent, and values are read stripped. A value schemathesis
would call valid is one the parser takes; the rules JSON Schema has no words for (a coordinate's
range, a date within the window, a service code that exists) are in the descriptions.
"""

from __future__ import annotations

from typing import Any

from api_client.domain import bounds
from api_client.models import RequestType
from central_api.open311.parsing import MAX_DESCRIPTION, MAX_RECORDS

_NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_ZERO = r"^\s*[-+]?(?:0+\.?0*|\.0+)(?:[eE][-+]?[0-9]+)?\s*$"
_FILLED = {"pattern": r"\S"}


def _text(limit: int, description: str, pattern: str | None = None) -> dict[str, Any]:
    field: dict[str, Any] = {"type": "string", "maxLength": limit, "description": description}
    if pattern is not None:
        field["pattern"] = pattern
    return field


def _any_case(*words: str) -> str:
    """A pattern for one of `words`, in any case."""
    spelled = ("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in w) for w in words)
    return f"(?:{'|'.join(spelled)})"


_COORDINATE = rf"^\s*(?:{_NUMBER})?\s*$"
_FIELDS: dict[str, dict[str, Any]] = {
    "api_key": {
        "type": "string",
        "description": "The key as GeoReport v2 clients send it (better in the X-Api-Key header).",
    },
    "service_code": {"type": "string", "pattern": r"\S", "description": "A service code (services.json)."},
    "lat": _text(40, "Latitude, WGS 84, -90..90 (with long; 0,0 counts as unknown).", _COORDINATE),
    "long": _text(40, "Longitude, WGS 84, -180..180.", _COORDINATE),
    "address_string": _text(bounds.MAX_ADDRESS, "The address as text."),
    "address_id": _text(200, "An address identifier."),
    "description": _text(MAX_DESCRIPTION, "What happened."),
    "first_name": _text(99, "The citizen's given name."),
    "last_name": _text(100, "The citizen's family name."),
    "phone": _text(bounds.MAX_PHONE, "The citizen's phone number."),
    "email": _text(254, "The citizen's e-mail address.", r"^\s*(?:\S*@\S*)?\s*$"),
    "device_id": _text(200, "The reporting device (makes the channel 'app')."),
    "account_id": _text(200, "The citizen's account in the reporting app."),
    "media_url": _text(2000, "A public URL of a photo."),
    "attribute[community]": _text(64, "A community id or name (see services/{code}.json)."),
    "attribute[type]": _text(
        32, "The kind of request (default help).", rf"^\s*(?:{'|'.join(t.value for t in RequestType)})?\s*$"
    ),
    "attribute[vulnerable]": _text(
        8,
        "true when an elderly person living alone or similar is affected.",
        rf"^\s*{_any_case('true', 'false')}?\s*$",
    ),
}


def _needs(name: str, other: str) -> dict[str, Any]:
    """`other` is filled in when `name` is."""
    return {
        "if": {"required": [name], "properties": {name: _FILLED}},
        "then": {"required": [other], "properties": {other: _FILLED}},
    }


POST_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["service_code"],
    "properties": _FIELDS,
    "allOf": [_needs("lat", "long"), _needs("long", "lat")],
    "anyOf": [  # a location: a point that is not 0,0, an address or an address id
        {
            "required": ["lat", "long"],
            "properties": {"lat": _FILLED},
            "not": {"properties": {"lat": {"pattern": _ZERO}, "long": {"pattern": _ZERO}}},
        },
        {"required": ["address_string"], "properties": {"address_string": _FILLED}},
        {"required": ["address_id"], "properties": {"address_id": _FILLED}},
    ],
}

_ABSENT = {"type": "string", "maxLength": 0}
_DATE = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}, _ABSENT]}


def _whole(high: int) -> dict[str, Any]:
    """A whole number in 1..high, or blank for the default."""
    blank = {"type": "string", "pattern": r"^\s*$"}
    return {"anyOf": [{"type": "integer", "minimum": 1, "maximum": high}, blank]}


_STATUS = _any_case("open", "closed")
LIST_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }
    for name, schema, description in (
        (
            "service_request_id",
            {"type": "string"},
            f"Comma-separated ids (at most {MAX_RECORDS}); overrides every other parameter.",
        ),
        ("service_code", {"type": "string"}, "Comma-separated service codes (from services.json)."),
        (
            "start_date",
            _DATE,
            "Received at or after (ISO 8601; naive: Beijing time; default 90 days before end_date or now).",
        ),
        ("end_date", _DATE, "Received at or before (ISO 8601), not before start_date."),
        (
            "status",
            {"type": "string", "pattern": rf"^\s*{_STATUS}?\s*(?:,\s*{_STATUS}?\s*)*$"},
            "open, closed, or both comma-separated.",
        ),
        ("page", _whole(bounds.MAX_PAGE), "1-based page (default 1)."),
        ("page_size", _whole(MAX_RECORDS), f"Records per page (default {MAX_RECORDS})."),
    )
]
