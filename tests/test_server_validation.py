"""Bad input is always a 4xx with a clear body, never a 500, and never leaves anything stored."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pg_support import Db, table_rows
from server_helpers import intake, new_request

from central_api.server import LiveServer

Api = Callable[..., httpx.Client]


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _hostile_common() -> list[bytes]:
    """Bodies no write route may accept."""
    return [
        b"",
        b"null",
        b"[]",
        b"[{}]",
        b'"a string"',
        b"123",
        b"true",
        b"{",
        b'{"a": 1,}',
        b"\xff\xfe\x00\x01",
        b'{"description": "\xff\xfe"}',
        b'{"x": "a\x00b"}',
        _deep(100_000).encode(),
        ('{"a": ' + _deep(5_000) + "}").encode(),
        b"NaN",
        json.dumps({"a" * 10_000: 1}).encode(),
    ]


def _hostile_intake() -> list[Any]:
    good = new_request()
    return [
        {},
        {**good, "channel": 5},
        {**good, "channel": None},
        {**good, "channel": "pigeon"},
        {**good, "type": ["help"]},
        {**good, "description": None},
        {**good, "description": ""},
        {**good, "description": "   "},
        {**good, "description": "x" * 5000},
        {**good, "description": "nul \u0000 inside"},
        {**good, "description": "lone surrogate \ud800"},
        {**good, "category": None},
        {**good, "category": "c" * 65},
        {**good, "category": {"$ne": 1}},
        {**good, "location": None},
        {**good, "location": "somewhere"},
        {**good, "location": [1, 2]},
        {**good, "location": {"lat": 91}},
        {**good, "location": {"lat": "north"}},
        {**good, "location": {"long": 1e999}},
        {**good, "location": {"address": "a\u0000b"}},
        {**good, "caller": {"name": "n" * 201}},
        {**good, "caller": {"phone": 13800000000}},
        {**good, "vulnerable": "perhaps"},
        {**good, "vulnerable": None},
        {**good, "received_at": "2026-01-01T00:00:00"},
        {**good, "received_at": "yesterday"},
        {**good, "received_at": 10**20},
        {**good, "received_at": "2026-01-01T00:00:00+25:00"},
        {**good, "tier": "1h"},
        {**good, "evil": True},
        {**good, "category": "no_such_category"},
        {**good, "location": {"community": "c99"}},
        {**good, "location": {"community": "c01\u0000"}},
    ]


def _hostile_actions(parent: str) -> list[Any]:
    return [
        {},
        {"action": None},
        {"action": 5},
        {"action": "explode"},
        {"action": ["dispatch"]},
        {"action": "dispatch"},
        {"action": "dispatch", "lead_unit": None},
        {"action": "dispatch", "lead_unit": ""},
        {"action": "dispatch", "lead_unit": "u" * 65},
        {"action": "dispatch", "lead_unit": "cc01", "co_units": "cc02"},
        {"action": "dispatch", "lead_unit": "cc01", "co_units": ["cc01"]},
        {"action": "dispatch", "lead_unit": "cc01", "co_units": ["cc02", "cc02"]},
        {"action": "dispatch", "lead_unit": "cc01", "co_units": [f"u{i}" for i in range(21)]},
        {"action": "dispatch", "lead_unit": "ghost"},
        {"action": "dispatch", "lead_unit": "cc01\u0000"},
        {"action": "dispatch", "lead_unit": "cc01", "extra": 1},
        {"action": "return"},
        {"action": "return", "reason": ""},
        {"action": "extend", "reason": "x", "new_due_at": "not a date"},
        {"action": "extend", "reason": "x", "new_due_at": "2030-01-01T00:00:00"},
        {"action": "callback", "reached": "maybe"},
        {"action": "callback", "reached": True},
        {"action": "callback", "reached": False, "solved": True},
        {"action": "callback", "reached": True, "solved": True, "satisfaction": "ecstatic"},
        {"action": "merge"},
        {"action": "merge", "parent_id": None},
        {"action": "merge", "parent_id": "R-999999"},
        {"action": "note", "text": "t" * 4001},
        {"action": "note", "text": "nul\u0000"},
        {"action": "note", "text": "\udfff"},
        {"action": "resolve", "summary": 12},
        {"action": "merge", "parent_id": parent, "x": [[[]]]},
    ]


def _post(client: httpx.Client, url: str, body: Any, **headers: str) -> httpx.Response:
    if isinstance(body, bytes):
        content = body
    else:
        content = json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")
    return client.post(url, content=content, headers={"Content-Type": "application/json", **headers})


def _snapshot(db: Db) -> dict[str, Any]:
    return {
        table: table_rows(db, table)
        for table in ("requests", "changes", "audit", "idempotency", "tokens", "units")
    }


def _check(response: httpx.Response, what: object) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, what, response.text[:300])
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"], (what, body)
    if response.status_code == 422 and "errors" in body:
        assert all(set(e) == {"field", "message", "code", "params"} for e in body["errors"])
    assert isinstance(body["code"], str) and isinstance(body["params"], dict), (what, body)


@pytest.fixture
def setup(live_server: LiveServer, api: Api) -> Iterator[tuple[httpx.Client, dict[str, Any], dict[str, Any]]]:
    client = api("admin")
    target, parent = intake(client), intake(client)
    yield client, target, parent


def test_hostile_bodies_on_every_write_route(
    setup: tuple[httpx.Client, dict[str, Any], dict[str, Any]], tmp_db: Db
) -> None:
    client, target, parent = setup
    before = _snapshot(tmp_db)
    action_url = f"/v1/requests/{target['id']}/actions"
    routes: list[tuple[str, str, list[Any], dict[str, str]]] = [
        ("POST", "/v1/requests", _hostile_common() + _hostile_intake(), {"Idempotency-Key": "k1"}),
        ("POST", action_url, _hostile_common() + _hostile_actions(parent["id"]), {"If-Match": '"1"'}),
        (
            "PATCH",
            "/v1/units/cc01",
            [
                *_hostile_common(),
                {},
                {"on_duty": None},
                {"on_duty": "perhaps"},
                {"on_duty": 2},
                {"on_duty": True, "x": 1},
            ],
            {},
        ),
        (
            "POST",
            "/v1/tokens",
            [
                *_hostile_common(),
                {},
                {"name": "", "role": "admin"},
                {"name": "x", "role": "root"},
                {"name": None, "role": "admin"},
                {"name": "x" * 201, "role": "admin"},
                {"name": "nul\u0000", "role": "admin"},
                {"name": "x", "role": "admin", "scopes": ["all"]},
            ],
            {},
        ),
    ]
    count = 0
    for method, url, bodies, headers in routes:
        for body in bodies:
            content = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8", "surrogatepass")
            r = client.request(
                method, url, content=content, headers={"Content-Type": "application/json", **headers}
            )
            _check(r, (method, url, repr(body)[-300:]))
            count += 1
    # Headers and paths.
    for headers in (
        {},
        {"If-Match": "abc"},
        {"If-Match": '"1'},
        {"If-Match": "99999999999999999999999"},
        {"If-Match": "-1"},
        {"If-Match": '"1"', "Idempotency-Key": "k" * 201},
    ):
        _check(_post(client, action_url, {"action": "note", "text": "x"}, **headers), headers)
    _check(
        _post(client, "/v1/requests/" + "R" * 65 + "/actions", {"action": "accept"}, **{"If-Match": "1"}),
        "id",
    )
    _check(_post(client, "/v1/requests/R-%00/actions", {"action": "accept"}, **{"If-Match": "1"}), "nul id")
    _check(client.post("/v1/requests", data={"channel": "phone"}), "form body")
    _check(client.post("/v1/requests", content=json.dumps(new_request()).encode()), "no content type")
    assert count > 100
    assert _snapshot(tmp_db) == before


def test_hostile_queries(api: Api) -> None:
    client = api()
    for params in (
        {"since": "yesterday"},
        {"since": "2026-01-01T00:00:00"},  # no timezone
        {"until": "2026-13-01T00:00:00Z"},
        {"unit": "ghost"},
        {"unit": "u" * 65},
    ):
        _check(client.get("/v1/stats", params=params), params)
    for query in ({"since": -1}, {"since": 10**40}, {"limit": "all"}):
        _check(client.get("/v1/changes", params=query), query)


def test_error_shapes(api: Api) -> None:
    client = api()
    r = _post(client, "/v1/requests", b"{")
    assert r.status_code == 400 and r.json()["detail"].startswith("Malformed JSON")
    r = _post(client, "/v1/requests", b"[1]")
    assert r.status_code == 400 and "object" in r.json()["detail"]
    r = _post(client, "/v1/requests", {**new_request(), "location": {"lat": 100}})
    assert r.status_code == 422
    body = r.json()
    assert body["detail"].startswith("location.lat: ")
    assert body["errors"][0]["field"] == "location.lat"
    r = _post(
        client, f"/v1/requests/{intake(client)['id']}/actions", {"action": "dispatch"}, **{"If-Match": "1"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lead_unit"
    r = _post(
        client, "/v1/requests/R-000001/actions", {"action": "dispatch", "lead_unit": "a", "co_units": ["a"]}
    )
    assert r.status_code == 422 and r.json()["detail"] == "body: the lead unit cannot also be a co-unit"
    r = client.get("/v1/nowhere")
    assert r.status_code == 404 and r.json() == {"code": "not_found", "detail": "Not Found", "params": {}}


def test_body_size_limit(live_server: LiveServer, api: Api, tmp_db: Db) -> None:
    client = api()
    before = _snapshot(tmp_db)
    big = json.dumps(new_request(location={"address": "x" * (1 << 20)})).encode()
    r = client.post("/v1/requests", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield big[: len(big) // 2]
        yield big[len(big) // 2 :]

    r = client.post("/v1/requests", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert _snapshot(tmp_db) == before
    # Just under the limit the body is read, and refused for what it says: the address is too long.
    under = json.dumps(new_request(location={"address": "x" * 1000_000})).encode()
    r = client.post("/v1/requests", content=under, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "string_too_long"
    assert _snapshot(tmp_db) == before


def test_custom_body_limit(tmp_db: Db) -> None:
    server = LiveServer(tmp_db, max_body_bytes=2000).start()
    try:
        client = httpx.Client(
            timeout=30, base_url=server.url, headers={"Authorization": f"Bearer {server.create_token('t')}"}
        )
        assert client.post("/v1/requests", json=new_request()).status_code == 201
        assert client.post("/v1/requests", json=new_request(description="d" * 2000)).status_code == 413
        client.close()
    finally:
        server.stop()


def test_hostile_open311_posts(live_server: LiveServer, make_token: Callable[..., str], tmp_db: Db) -> None:
    key = make_token()
    before = _snapshot(tmp_db)
    url = f"{live_server.url}/open311/v2/requests.json"
    form = {"api_key": key, "service_code": "roof_leak", "address_string": "德胜里一区"}
    for kwargs in (
        {"content": json.dumps(form).encode(), "headers": {"Content-Type": "application/json"}},
        {"content": b"\x00\x01\xff", "headers": {"Content-Type": "text/plain"}},
        {"data": {**form, "description": "nul\x00"}},
        {"data": {**form, "address_string": "a" * 900_000}},
        {"data": {**form, "lat": "nan", "long": "inf"}},
        {"data": {**form, "service_code": "no_such_service"}},
        {"data": {**form, "api_key": "wrong"}},
        {
            "content": b"a=" + b"x" * (2 << 20),
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
    ):
        r = httpx.post(url, timeout=30, **kwargs)
        assert 400 <= r.status_code < 500, (kwargs.get("data"), r.text[:200])
        body = r.json()
        assert isinstance(body, list) and all(set(e) == {"code", "description"} for e in body), body
    assert _snapshot(tmp_db) == before


def test_open311_error_shapes(live_server: LiveServer) -> None:
    base = f"{live_server.url}/open311/v2"
    r = httpx.put(f"{base}/services.json", timeout=30)
    assert r.status_code == 405 and r.json() == [{"code": 405, "description": "Method Not Allowed"}]
    big = b"a=" + b"x" * (2 << 20)
    r = httpx.post(
        f"{base}/requests.json",
        content=big,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert r.status_code == 413 and r.json()[0]["code"] == 413


async def test_open311_validation_errors_are_400_lists() -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.requests import Request as HttpRequest

    from central_api.errors import validation_handler

    def scope(path: str) -> dict[str, Any]:
        return {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}

    exc = RequestValidationError([{"type": "int_parsing", "loc": ("query", "page"), "msg": "not a number"}])
    response = await validation_handler(HttpRequest(scope("/open311/v2/requests.json")), exc)
    assert response.status_code == 400
    assert json.loads(bytes(response.body)) == [{"code": 400, "description": "page: not a number"}]
    response = await validation_handler(HttpRequest(scope("/v1/changes")), exc)
    assert response.status_code == 422
    assert json.loads(bytes(response.body)) == {
        "code": "invalid_field",
        "detail": "page: not a number",
        "params": {"field": "page"},
        "errors": [{"field": "page", "message": "not a number", "code": "int_parsing", "params": {}}],
    }
