"""The OpenAPI document tells the truth: every status the server tests see a route answer is
declared for that route, every refusal has its API's error body, and who may call is said.

`OBSERVED` lists what the server tests assert, by the test module that asserts it; a test that
asserts a new status on a route adds it here. `tests/test_schemathesis.py` checks the rest of the
document against the server with generated requests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_client.domain import bounds
from central_api.server import LiveServer

REQUEST = "/v1/requests/{request_id}"
RULE = "/v1/routing-rules/{rule_id}"
OPEN311 = "/open311/v2"

#: (method, path as the document names it, status) the server tests assert, by test module.
OBSERVED: dict[str, list[tuple[str, str, int]]] = {
    "test_server_auth": [
        *(
            ("GET", path, 401)
            for path in ("/v1/me", REQUEST, "/v1/changes", "/v1/units", "/v1/stats", "/v1/events")
        ),
        ("POST", "/v1/requests", 401),
        ("GET", "/v1/health", 200),
        ("PATCH", "/v1/units/{unit_id}", 200),
        ("PATCH", "/v1/units/{unit_id}", 403),
        ("PATCH", "/v1/units/{unit_id}", 404),
        ("POST", "/v1/tokens", 201),
        ("POST", "/v1/tokens", 403),
        ("POST", "/v1/tokens", 422),
    ],
    "test_server_changes": [("GET", "/v1/changes", 422)],
    "test_server_events": [("GET", "/v1/events", 422)],
    "test_server_requests": [
        ("POST", "/v1/requests", 201),
        ("POST", "/v1/requests", 422),
        ("GET", REQUEST, 200),
        ("GET", REQUEST, 404),
        ("GET", f"{REQUEST}/audit", 404),
        *(("POST", f"{REQUEST}/actions", status) for status in (200, 400, 404, 409, 412, 422, 428)),
    ],
    "test_server_reveal": [
        *(("POST", f"{REQUEST}/phone-reveals", status) for status in (200, 400, 401, 404, 422)),
        ("GET", f"{OPEN311}/requests/{{service_request_id}}.json", 200),
    ],
    "test_server_routing": [
        *(("PUT", RULE, status) for status in (200, 201, 400, 401, 403, 409, 412, 422, 428)),
        *(("DELETE", RULE, status) for status in (200, 403, 404, 412)),
        *(("POST", "/v1/routing-rules/auto-dispatch", status) for status in (200, 403, 422)),
        ("GET", "/v1/routing-rules", 401),
        ("GET", "/v1/routing-rules/audit", 200),
    ],
    "test_server_validation": [
        *(("POST", "/v1/requests", status) for status in (400, 413, 422)),
        ("POST", f"{REQUEST}/actions", 422),
        *(("POST", f"{OPEN311}/requests.json", status) for status in (400, 403, 413)),
    ],
    "test_error_codes": [
        *(("POST", f"{REQUEST}/actions", status) for status in (409, 412, 422, 428)),
        ("GET", REQUEST, 404),
        ("GET", "/v1/me", 401),
        ("PATCH", "/v1/units/{unit_id}", 403),
        *(("POST", "/v1/requests", status) for status in (400, 413, 422)),
        ("GET", f"{OPEN311}/requests.json", 403),
    ],
    "test_open311": [
        ("GET", f"{OPEN311}/services.json", 200),
        ("GET", f"{OPEN311}/services/{{service_code}}.json", 404),
        *(("POST", f"{OPEN311}/requests.json", status) for status in (201, 400, 403)),
        *(("GET", f"{OPEN311}/requests.json", status) for status in (200, 400, 403)),
        *(("GET", f"{OPEN311}/requests/{{service_request_id}}.json", status) for status in (403, 404)),
    ],
    "test_open311_partner": [
        *(("GET", path, 403) for path in ("/v1/changes", REQUEST)),
        ("POST", "/v1/requests", 403),
        *(("POST", f"{OPEN311}/requests.json", status) for status in (201, 400, 403)),
        ("GET", f"{OPEN311}/requests.json", 200),
        ("GET", f"{OPEN311}/requests.json", 403),
    ],
    "test_input_bounds": [
        *(("POST", "/v1/requests", status) for status in (201, 400, 413, 422)),
        *(("POST", f"{REQUEST}/actions", status) for status in (400, 404, 412, 422)),
        ("GET", REQUEST, 404),
        ("GET", REQUEST, 422),
        ("GET", "/v1/me", 401),
        *(("GET", "/v1/changes", status) for status in (200, 414, 422)),
        *(("GET", "/v1/stats", status) for status in (200, 422)),
        *(("GET", "/v1/stats/units", status) for status in (200, 422)),
        ("GET", f"{REQUEST}/audit", 200),
        *(("GET", f"{OPEN311}/requests.json", status) for status in (200, 400)),
        *(("POST", f"{OPEN311}/requests.json", status) for status in (201, 400)),
    ],
    "test_personal_data": [
        ("POST", "/v1/requests", 201),
        *(("POST", f"{REQUEST}/actions", status) for status in (200, 412)),
        *(("POST", "/v1/callers/lookup", status) for status in (200, 422, 429)),
    ],
    "test_server_knowledge": [
        ("GET", "/v1/knowledge", 200),
        ("GET", "/v1/knowledge/audit", 200),
        *(("POST", "/v1/knowledge", status) for status in (201, 403, 422)),
        *(("GET", "/v1/knowledge/{entry_id}", status) for status in (200, 404)),
        *(("PUT", "/v1/knowledge/{entry_id}", status) for status in (200, 403, 404, 412, 428)),
        *(("DELETE", "/v1/knowledge/{entry_id}", status) for status in (200, 403, 404)),
        *(("POST", f"{REQUEST}/actions", status) for status in (200, 409, 422)),
    ],
    "test_tokens": [
        *(("POST", "/v1/tokens", status) for status in (201, 409, 422)),
        *(("DELETE", "/v1/tokens/{name}", status) for status in (200, 403, 404)),
        ("GET", "/v1/tokens", 403),
        ("GET", "/v1/me", 200),
        ("GET", "/v1/me", 401),
        ("GET", "/v1/events", 429),
    ],
}

#: The error bodies of the two APIs.
V1_ERRORS = {"ErrorBody", "InvalidInputBody", "StaleRequestBody", "StaleRuleBody", "StaleEntryBody"}
OPEN311_ERRORS = {"GeoReportErrors"}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with LiveServer(tmp_path_factory.mktemp("openapi") / "hotline.db") as server:
        answer = httpx.get(f"{server.url}/openapi.json", timeout=10)
        assert answer.status_code == 200
        yield answer.json()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _reference(response: dict[str, Any]) -> str:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).rsplit("/", 1)[-1]


def test_every_status_the_tests_observe_is_declared(document: dict[str, Any]) -> None:
    undeclared = []
    for module, observed in OBSERVED.items():
        for method, path, status in observed:
            operation = document["paths"].get(path, {}).get(method.lower())
            assert operation is not None, (module, method, path)
            if str(status) not in operation["responses"]:
                undeclared.append((module, method, path, status))
    assert not undeclared


def test_every_refusal_has_its_apis_error_body(document: dict[str, Any]) -> None:
    wrong = []
    for method, path, operation in _operations(document):
        bodies = OPEN311_ERRORS if path.startswith(OPEN311) else V1_ERRORS
        for status, response in operation["responses"].items():
            if int(status) >= 400 and _reference(response) not in bodies:
                wrong.append((method, path, status, response))
    assert not wrong
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_who_may_call_is_declared(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert (schemes["bearer"]["type"], schemes["bearer"]["scheme"]) == ("http", "bearer")
    assert {(s["in"], s["name"]) for s in schemes.values() if s["type"] == "apiKey"} == {
        ("header", "X-Api-Key"),
        ("query", "api_key"),
    }
    for method, path, operation in _operations(document):
        security = operation.get("security", [])
        if path.startswith("/v1/") and path != "/v1/health":
            assert security == [{"bearer": []}], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
        elif path.startswith(f"{OPEN311}/requests"):
            keys = {name for alternative in security for name in alternative}
            assert keys == {"api_key_header", "api_key_query", "api_key_bearer"}, (method, path)
            assert {} not in security and "403" in operation["responses"], (method, path)
        else:
            assert not security, (method, path)


def test_every_operation_declares_the_refusals_of_its_kind(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        responses, open311 = set(operation["responses"]), path.startswith(OPEN311)
        places = {p["in"] for p in operation.get("parameters", [])}
        if "requestBody" in operation:
            assert {"400", "413"} <= responses, (method, path)
        if not open311 and ("requestBody" in operation or places & {"path", "query"}):
            assert "422" in responses, (method, path)
        if "query" in places:
            assert "414" in responses, (method, path)
        if open311:
            assert "422" not in responses, (method, path)


def test_an_action_needs_its_tag_and_if_match(document: dict[str, Any]) -> None:
    operation = document["paths"][f"{REQUEST}/actions"]["post"]
    [if_match] = [p for p in operation["parameters"] if p["name"] == "If-Match"]
    assert if_match["required"] and if_match["schema"]["type"] == "string"
    for value, valid in (('"3"', True), ("3", True), ('W/"3"', True), ("*", False), ('"3', False)):
        assert bool(re.search(if_match["schema"]["pattern"], value)) is valid, value
    schemas = document["components"]["schemas"]
    assert all("action" in schemas[name]["required"] for name in ("Dispatch", "Accept", "AddNote"))


def test_the_idempotency_key_pattern_is_the_servers(document: dict[str, Any]) -> None:
    operation = document["paths"]["/v1/requests"]["post"]
    [key] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    [schema] = [s for s in key["schema"]["anyOf"] if s.get("type") == "string"]
    for value in ("k", "k" * 200, "k" * 201, "", "tab\there", "ключ", "a b", "~!"):
        fits = len(value) in range(schema["minLength"], schema["maxLength"] + 1)
        assert (fits and re.search(schema["pattern"], value) is not None) == bounds.is_idempotency_key(value)


def test_public_open311_reads_need_no_key(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "hotline.db", open311_public=True) as server:
        document = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    for path in (f"{OPEN311}/requests.json", f"{OPEN311}/requests/{{service_request_id}}.json"):
        assert {} in document["paths"][path]["get"]["security"]
    assert {} not in document["paths"][f"{OPEN311}/requests.json"]["post"]["security"]


def test_a_405_allows_every_method_of_the_path(live_server: LiveServer, document: dict[str, Any]) -> None:
    for path, concrete in ((RULE, "/v1/routing-rules/roof"), (f"{OPEN311}/requests.json", None)):
        url = live_server.url + (concrete or path)
        answer = httpx.request("PATCH", url, timeout=10)
        assert answer.status_code == 405
        allowed = {m.strip() for m in answer.headers["Allow"].split(",")} - {"HEAD"}
        assert allowed == {method.upper() for method in document["paths"][path]}, answer.headers
