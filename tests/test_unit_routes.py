"""A unit's token walks every route of the real server's OpenAPI document (/v1 and /open311): each
answers 403 (or 404), or answers with the unit's own requests only. A route the walk does not
know fails it, so a new route cannot slip by unclassified."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from server_helpers import SSEReader, new_request
from unit_support import UNIT, Cases, Clients, clients, make_cases

from central_api.server import LiveServer

pytestmark = pytest.mark.stores("sqlite", "postgres")

#: How each route of the document answers a unit's token (`check` below says what each kind means).
ROUTES: dict[str, str] = {
    "GET /v1/health": "reader",
    "GET /v1/me": "reader",
    "POST /v1/requests": "refused",
    "GET /v1/requests/{request_id}": "request",
    "POST /v1/requests/{request_id}/actions": "act",
    "GET /v1/requests/{request_id}/audit": "request",
    "POST /v1/requests/{request_id}/phone-reveals": "request",
    "POST /v1/callers/lookup": "refused",
    "GET /v1/callers/lookups": "refused",
    "GET /v1/changes": "feed",
    "GET /v1/events": "stream",
    "GET /v1/units": "reader",
    "PATCH /v1/units/{unit_id}": "refused",
    "GET /v1/categories": "reader",
    "GET /v1/communities": "reader",
    "GET /v1/places": "reader",
    "GET /v1/places/audit": "refused",
    "PUT /v1/places/{place_id}": "refused",
    "GET /v1/routing-rules": "refused",
    "GET /v1/routing-rules/audit": "refused",
    "POST /v1/routing-rules/auto-dispatch": "refused",
    "PUT /v1/routing-rules/{rule_id}": "refused",
    "DELETE /v1/routing-rules/{rule_id}": "refused",
    "GET /v1/knowledge": "reader",
    "POST /v1/knowledge": "refused",
    "GET /v1/knowledge/audit": "reader",
    "GET /v1/knowledge/{entry_id}": "reader",
    "PUT /v1/knowledge/{entry_id}": "refused",
    "DELETE /v1/knowledge/{entry_id}": "refused",
    "GET /v1/stats": "stats",
    "GET /v1/stats/units": "stats",
    "GET /v1/tokens": "refused",
    "POST /v1/tokens": "refused",
    "DELETE /v1/tokens/{name}": "refused",
    "GET /open311/v2/discovery.json": "reader",
    "GET /open311/v2/services.json": "reader",
    "GET /open311/v2/services/{service_code}.json": "reader",
    "POST /open311/v2/requests.json": "refused",
    "GET /open311/v2/requests.json": "open311_list",
    "GET /open311/v2/requests/{service_request_id}.json": "open311_one",
}
_REQUEST_ID = re.compile(r"R-[0-9]{6}")
_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def walk(live_server: LiveServer) -> Iterator[tuple[Clients, Cases]]:
    with clients(live_server) as c:
        yield c, make_cases(c)


def routes(document: dict[str, Any]) -> list[str]:
    return [f"{m.upper()} {path}" for path, ops in document["paths"].items() for m in ops if m in _METHODS]


def ids_in(text: str) -> set[str]:
    return set(_REQUEST_ID.findall(text))


def test_every_route_is_classified_and_keeps_to_the_unit(walk: tuple[Clients, Cases]) -> None:
    c, cases = walk
    document = c.unit.get("/openapi.json").json()
    found = routes(document)
    assert any(r.startswith("GET /open311/") for r in found) and any(r.startswith("GET /v1/") for r in found)
    unclassified = [r for r in found if r not in ROUTES]
    assert not unclassified, f"routes the unit walk does not know (classify them in ROUTES): {unclassified}"
    gone = [r for r in ROUTES if r not in found]
    assert not gone, f"ROUTES names routes the document no longer has: {gone}"
    for route in found:
        method, path = route.split(" ", 1)
        check(c, cases, ROUTES[route], method, path)


def check(c: Clients, cases: Cases, kind: str, method: str, path: str) -> None:
    """Call the route as the unit, and hold its answer to what `kind` promises."""
    unit = c.unit
    what = f"{method} {path} ({kind})"
    if kind == "refused":
        r = call(unit, method, fill(path, cases.lead, c))
        assert r.status_code == 403, (what, r.status_code, r.text)
    elif kind == "reader":
        r = call(unit, method, fill(path, cases.lead, c))
        assert r.status_code in (200, 404), (what, r.text)
        assert not ids_in(r.text), (what, "a request in a directory read")
    elif kind == "request":
        for request_id in sorted(cases.mine):
            r = call(unit, method, fill(path, request_id, c))
            assert r.status_code == 200, (what, request_id, r.text)
            assert ids_in(r.text) <= cases.mine, what
        for request_id in sorted(cases.not_mine):
            r = call(unit, method, fill(path, request_id, c))
            assert r.status_code == 403 and r.json()["code"] == "not_your_unit", (what, request_id, r.text)
        assert call(unit, method, fill(path, "R-999999", c)).status_code == 404
    elif kind == "act":
        act_refusals(c, cases, path)
    elif kind == "feed":
        r = unit.get(path, params={"since": 0})
        assert r.status_code == 200, r.text
        assert {ch["request"]["id"] for ch in r.json()["changes"]} == cases.mine | {cases.returned}
    elif kind == "stream":
        stream_holds_the_units_changes(c, cases)
    elif kind == "stats":
        r = unit.get(path)
        assert r.status_code == 200, r.text
        body = r.json()
        assert [s["unit"] for s in (body if isinstance(body, list) else [body])] == [UNIT]
        assert unit.get(path, params={"unit": "cc02"}).json() == body  # forced to its own unit
    elif kind == "open311_list":
        r = unit.get(path, headers={"X-Api-Key": c.unit_token})
        assert r.status_code == 200, r.text
        assert {item["service_request_id"] for item in r.json()} == cases.mine
    elif kind == "open311_one":
        for request_id in sorted(cases.mine | cases.not_mine):
            r = unit.get(fill(path, request_id, c), headers={"X-Api-Key": c.unit_token})
            assert r.status_code == (200 if request_id in cases.mine else 403), (request_id, r.text)
            assert r.status_code == 403 or ids_in(r.text) == {request_id}
    else:
        raise AssertionError(f"unknown kind {kind!r} for {what}")


def fill(path: str, request_id: str, c: Clients) -> str:
    values = {
        "request_id": request_id,
        "service_request_id": request_id,
        "unit_id": UNIT,
        "rule_id": "r-unit",
        "entry_id": "KB-1",
        "place_id": "s01",
        "name": "someone",
        "service_code": "roof_leak",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    """A call with a body the route would take from someone allowed (the refusal must not hinge
    on a bad body)."""
    if path.startswith("/open311/") and method == "POST":
        form = {"service_code": "roof_leak", "description": "漏水", "address_string": "德胜里一区3号楼"}
        return client.post(path, data=form, headers={"X-Api-Key": client.headers["authorization"][7:]})
    if path.startswith("/open311/"):
        return client.request(method, path, headers={"X-Api-Key": client.headers["authorization"][7:]})
    body = _BODIES.get((method, path), _BODIES.get((method, re.sub(r"/[^/]*$", "/{}", path))))
    return client.request(method, path, json=body, headers={"If-Match": '"1"'})


_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/callers/lookup"): {"phone": "13800000000", "reason": "回访"},
    ("PATCH", "/v1/units/{}"): {"on_duty": False},
    ("POST", "/v1/routing-rules/auto-dispatch"): {"category": "roof_leak", "auto_dispatch": True},
    ("PUT", "/v1/routing-rules/{}"): {"category": "roof_leak", "community": "c01", "lead_unit": UNIT},
    ("POST", "/v1/tokens"): {"name": "mine too", "role": "unit", "unit": UNIT},
    ("POST", "/v1/requests"): new_request(),
}


def act_refusals(c: Clients, cases: Cases, path: str) -> None:
    def post(request_id: str, action: dict[str, Any]) -> httpx.Response:
        version = c.dispatcher.get(f"/v1/requests/{request_id}").json()["version"]
        return c.unit.post(
            path.replace("{request_id}", request_id), json=action, headers={"If-Match": f'"{version}"'}
        )

    for action in (
        {"action": "dispatch", "lead_unit": UNIT},
        {"action": "merge", "parent_id": cases.co},
        {"action": "callback", "reached": True, "solved": True, "satisfaction": "satisfied"},
        {"action": "close", "code": "other", "reason": "x"},
        {"action": "reopen", "reason": "x"},
        {"action": "escalate", "tier": "2h", "reason": "x"},
        {"action": "chase", "text": "x"},
        {"action": "unmerge"},
        {"action": "answer", "entry_id": "KB-1"},
    ):
        r = post(cases.lead, action)
        assert r.status_code == 403 and r.json()["code"] == "unit_not_allowed", r.text
        assert r.json()["params"] == {"action": action["action"]}
    for request_id in sorted(cases.not_mine):
        r = post(request_id, {"action": "note", "text": "看一眼"})
        assert r.status_code == 403 and r.json()["code"] == "not_your_unit", r.text
        stale = c.unit.post(
            path.replace("{request_id}", request_id),
            json={"action": "note", "text": "x"},
            headers={"If-Match": '"99"'},
        )
        assert stale.status_code == 403 and "current" not in stale.json()  # no 412 with another's request
    r = post(cases.co, {"action": "accept"})
    assert r.status_code == 403 and r.json()["code"] == "unit_not_lead", r.text
    assert post(cases.co, {"action": "note", "text": "协办单位已到场"}).status_code == 200


def stream_holds_the_units_changes(c: Clients, cases: Cases) -> None:
    reader = SSEReader(str(c.unit.base_url).rstrip("/"), c.unit_token, last_event_id=0)
    try:
        assert reader.status == 200
        event = reader.next_event(5)
        assert event is not None and event["event"] == "changes", event
        page = orjson.loads(event["data"])
        assert page["since"] == 0 and int(event["id"]) == page["next_since"]
        assert {ch["request"]["id"] for ch in page["changes"]} == cases.mine | {cases.returned}
    finally:
        reader.close()
