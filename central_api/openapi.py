"""The OpenAPI document: error bodies, the statuses each route declares, and the security schemes.

Routes declare their refusals with `errors(...)` (the /v1 body of `central_api.errors`) or
`georeport_errors(...)` (Open311's list), and who may call them with `BEARER` or `OPEN311_KEY`.
`install_document(app)` completes what FastAPI generates: a discriminated union's tag is required,
refusals are JSON, Open311 routes list no 422 (validation errors are 400 there), every route lists
what is refused before any route runs (a long query, bad text in the path or the query), and with
public Open311 reads (`app.state.open311_public`) their key is optional.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fastapi import FastAPI, Security, params
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPBearer
from pydantic import BaseModel, Field, RootModel

from api_client.models import Request, RoutingRule
from central_api.errors import OPEN311_PREFIX

#: A JSON body can be malformed (400), too large (413) or invalid (422).
BODY = (400, 413, 422)

#: An `If-Match` the server reads: a version, quoted, bare or weak (`"3"`, `3`, `W/"3"`).
IF_MATCH_PATTERN = r'^(?:W/)?"([0-9]{1,18})"$|^([0-9]{1,18})$'
IF_MATCH_SCHEMA = {"type": "string", "pattern": IF_MATCH_PATTERN}


class ErrorBody(BaseModel):
    """Every /v1 refusal; `code` is stable, `detail` one English sentence, `params` its variable parts."""

    code: str = Field(description="A stable snake_case identifier (docs/api.md lists them)")
    detail: str = Field(
        description="One English sentence, for logs and for clients that do not know the code"
    )
    params: dict[str, Any] = Field(
        description="The sentence's variable parts; the same code has the same params"
    )


class FieldProblem(BaseModel):
    """One problem of a 422 `invalid_field`."""

    field: str = Field(description="Dotted path of the field (`location.address`), or the source (`body`)")
    message: str
    code: str = Field(description="pydantic's error type (`string_too_long`) or a validator's own")
    params: dict[str, Any]


class InvalidInputBody(ErrorBody):
    """A 422: `invalid_field` lists each problem in `errors`; an unknown reference has no `errors`."""

    errors: list[FieldProblem] = Field(default_factory=list, description="Present with `invalid_field`")


class StaleRequestBody(ErrorBody):
    """A 412 `version_mismatch`: the request as it stands now is in `current`."""

    current: Request


class StaleRuleBody(ErrorBody):
    """A 412 on a routing rule: the rule as it stands now, null when it was deleted."""

    current: RoutingRule | None


class GeoReportError(BaseModel):
    """One item of an Open311 error list."""

    code: int = Field(description="The HTTP status")
    description: str


class GeoReportErrors(RootModel[list[GeoReportError]]):
    """Every Open311 refusal: a list of one or more `{code, description}`."""


_SAYS: dict[int, str] = {
    400: "Malformed JSON, a body that is not a JSON object, or a malformed header",
    401: "Missing, unknown or revoked bearer token",
    403: "The token's role may not do this",
    404: "Not found",
    409: "The request's state or another resource refuses it",
    412: "Stale If-Match: the body carries `current`",
    413: "The request body is too large",
    422: "Invalid input (`errors` lists each problem), or an unknown category, community, unit or request",
    428: "If-Match is required",
    429: "Too many open streams for this token",
    503: "The server is busy (its open files are nearly used up): try again after `Retry-After`",
}
_MODELS: dict[int, type[ErrorBody]] = {412: StaleRequestBody, 422: InvalidInputBody}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "required": True, "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "required": True, "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "Seconds to wait", "required": True, "schema": {"type": "integer"}}},
}


def errors(
    *statuses: int, says: Mapping[int, str] | None = None, stale: type[ErrorBody] = StaleRequestBody
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of /v1 refusals: each status with its body schema and a description
    (`says` overrides the usual one); `stale` is the body of a 412."""
    models = {**_MODELS, 412: stale}
    notes = {**_SAYS, **(says or {})}
    return {s: {"model": models.get(s, ErrorBody), "description": notes[s], **_headers(s)} for s in statuses}


def _headers(status: int) -> dict[str, Any]:
    return {"headers": _HEADERS[status]} if status in _HEADERS else {}


_GEOREPORT_SAYS: dict[int, str] = {
    400: "A parameter is missing or invalid, or the body is not form-encoded",
    403: "api_key is missing or not valid",
    404: "Not found",
    413: "The request body is too large",
}


def georeport_errors(
    *statuses: int, says: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of Open311 refusals: a list of `{code, description}`."""
    notes = {**_GEOREPORT_SAYS, **(says or {})}
    return {s: {"model": GeoReportErrors, "description": notes[s]} for s in statuses}


def versioned(status: int, description: str, *, created: bool = False) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry of an answer carrying a version in `ETag` (and, `created`, where the
    new resource is in `Location`)."""
    headers = {
        "ETag": {"description": 'The version: "<version>"', "required": True, "schema": {"type": "string"}}
    }
    if created:
        headers["Location"] = {
            "description": "The new resource",
            "required": True,
            "schema": {"type": "string"},
        }
    return {status: {"description": description, "headers": headers}}


def header(name: str, schema: dict[str, Any], *, required: bool, description: str) -> dict[str, Any]:
    """The `openapi_extra` declaring a header the route reads itself (its own parameter is left out
    of the document, where FastAPI would call it optional and nullable)."""
    parameter = {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": schema,
    }
    return {"parameters": [parameter]}


def if_match(*, required: bool, description: str) -> dict[str, Any]:
    """The `openapi_extra` declaring `If-Match`."""
    return header("If-Match", IF_MATCH_SCHEMA, required=required, description=description)


#: Every /v1 route but `/v1/health`: `Authorization: Bearer <token>`.
BEARER: list[params.Depends] = [
    Security(
        HTTPBearer(
            scheme_name="bearer",
            description="A hotline token (`hotline token create`, or `POST /v1/tokens` by an admin).",
            auto_error=False,
        )
    )
]

#: Open311 service requests: the key of a partner (or any token) in a header or, as GeoReport v2
#: clients send it, as `api_key` in the query (or the form of a POST, described with its fields).
OPEN311_KEY: list[params.Depends] = [
    Security(
        APIKeyHeader(
            name="X-Api-Key",
            scheme_name="api_key_header",
            description="A hotline token, usually a partner's (preferred: query strings are logged).",
            auto_error=False,
        )
    ),
    Security(
        APIKeyQuery(
            name="api_key",
            scheme_name="api_key_query",
            description="The GeoReport v2 `api_key`; given in several places, it must be the same.",
            auto_error=False,
        )
    ),
    Security(
        HTTPBearer(
            scheme_name="api_key_bearer",
            description="The same key as `Authorization: Bearer <key>`.",
            auto_error=False,
        )
    ),
]


def install_document(app: FastAPI) -> None:
    """Have `app.openapi()` complete FastAPI's document (see the module's docstring)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            _require_tags(document)
            _errors_are_json(document)
            _drop_open311_422(document)
            _arrival_refusals(document)
            if getattr(app.state, "open311_public", False):
                _open311_reads_public(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _require_tags(document: dict[str, Any]) -> None:
    """A discriminated union needs its tag even where the model gives it a default."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for node in _walk(document):
        discriminator = node.get("discriminator")
        if not isinstance(discriminator, dict):
            continue
        tag = discriminator["propertyName"]
        for ref in discriminator.get("mapping", {}).values():
            schema = schemas[ref.rsplit("/", 1)[-1]]
            required: list[str] = schema.setdefault("required", [])
            if tag not in required:
                required.insert(0, tag)


def _errors_are_json(document: dict[str, Any]) -> None:
    """Refusals are JSON even where the route answers otherwise (FastAPI files every response's
    schema under the route's own media type, `text/event-stream` for the event stream)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and content and "application/json" not in content:
                    response["content"] = {"application/json": next(iter(content.values()))}


def _arrival_refusals(document: dict[str, Any]) -> None:
    """What `central_api.raw_input` refuses before any route reads the request: a query too long
    (414), and text that is not UTF-8 or holds a NUL or a lone surrogate in the path or the query
    (422; 400 under Open311, as all its input errors)."""
    for path, operations in document.get("paths", {}).items():
        open311 = path.startswith(OPEN311_PREFIX)
        body = "GeoReportErrors" if open311 else "ErrorBody"
        invalid = "400" if open311 else "422"
        for operation in operations.values():
            places = {p.get("in") for p in operation.get("parameters", [])}
            keyed = any("api_key_query" in alternative for alternative in operation.get("security", []))
            responses = operation.setdefault("responses", {})
            if "query" in places or keyed:
                responses.setdefault("414", _refusal(body, "The query string is too long"))
            if places & {"query", "path"} or keyed:
                responses.setdefault(invalid, _refusal(body, "Text that is not UTF-8 or holds NUL"))


def _refusal(schema: str, description: str) -> dict[str, Any]:
    reference = {"$ref": f"#/components/schemas/{schema}"}
    return {"description": description, "content": {"application/json": {"schema": reference}}}


def _open311_reads_public(document: dict[str, Any]) -> None:
    """`hotline serve --open311-public`: reading service requests needs no key."""
    for path, operations in document.get("paths", {}).items():
        read = operations.get("get", {})
        if path.startswith(OPEN311_PREFIX) and read.get("security"):
            read["security"].append({})


def _drop_open311_422(document: dict[str, Any]) -> None:
    """Open311 answers no 422 (FastAPI lists one wherever there are parameters)."""
    for path, operations in document.get("paths", {}).items():
        if path.startswith(OPEN311_PREFIX):
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
    used = {node["$ref"] for node in _walk(document["paths"]) if isinstance(node.get("$ref"), str)}
    if "#/components/schemas/HTTPValidationError" not in used:
        schemas = document.get("components", {}).get("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


def _walk(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
