"""Intake, reads, actions (If-Match, 412/409/422/428), merge rules, audit, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from server_helpers import act, intake, new_request

from api_client.models import Request
from central_api.server import LiveServer

Api = Callable[..., httpx.Client]


def test_intake_defaults_etag_location(api: Api) -> None:
    client = api()
    response = client.post("/v1/requests", json=new_request())
    assert response.status_code == 201, response.text
    body = Request.model_validate(response.json())
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/v1/requests/{body.id}"
    assert "Idempotent-Replayed" not in response.headers
    assert body.state == "new" and body.version == 1 and body.change_seq == 1
    assert body.tier == "24h"  # roof_leak's tier in the catalogue
    assert body.due_at - body.received_at == timedelta(hours=24)
    assert body.updated_at is not None

    got = client.get(f"/v1/requests/{body.id}")
    assert got.status_code == 200 and got.headers["ETag"] == '"1"'
    assert Request.model_validate(got.json()) == body


def test_intake_given_tier_and_received_at(api: Api) -> None:
    body = intake(api(), tier="2h", received_at="2026-03-01T09:00:00+08:00")
    assert body["tier"] == "2h"
    received = datetime.fromisoformat(body["received_at"])
    assert received == datetime.fromisoformat("2026-03-01T01:00:00+00:00")
    assert datetime.fromisoformat(body["due_at"]) - received == timedelta(hours=2)


def test_intake_unknown_category_or_community_is_422(api: Api, live_server: LiveServer) -> None:
    client = api()
    r = client.post("/v1/requests", json=new_request(category="no_such_thing"))
    assert r.status_code == 422 and "category" in r.json()["detail"]
    r = client.post("/v1/requests", json=new_request(location={"community": "c99"}))
    assert r.status_code == 422 and "community" in r.json()["detail"]
    assert live_server.store.head() == 0


def test_unknown_request_is_404(api: Api) -> None:
    client = api()
    assert client.get("/v1/requests/R-999999").status_code == 404
    assert client.get("/v1/requests/R-999999/audit").status_code == 404
    r = client.post("/v1/requests/R-999999/actions", json={"action": "accept"}, headers={"If-Match": '"1"'})
    assert r.status_code == 404 and r.json()["detail"]


def test_full_life_and_audit(api: Api) -> None:
    client = api(name="disp-1")
    req = intake(client)
    req = act(client, req, {"action": "dispatch", "lead_unit": "pm01", "co_units": ["cc01"]})
    assert req["state"] == "dispatched" and req["lead_unit"] == "pm01" and req["version"] == 2
    req = act(client, req, {"action": "accept"})
    req = act(client, req, {"action": "note", "text": "plumber on the way"})
    req = act(client, req, {"action": "resolve", "summary": "pipe fixed"})
    req = act(client, req, {"action": "callback", "reached": False})
    assert req["state"] == "resolved"
    req = act(
        client, req, {"action": "callback", "reached": True, "solved": True, "satisfaction": "satisfied"}
    )
    assert req["state"] == "closed" and req["version"] == 7 and req["change_seq"] == 7

    audit = client.get(f"/v1/requests/{req['id']}/audit").json()
    assert [e["action"] for e in audit] == [
        "intake",
        "dispatch",
        "accept",
        "note",
        "resolve",
        "callback",
        "callback",
    ]
    assert [e["seq"] for e in audit] == list(range(1, 8))
    assert all(e["actor"] == "disp-1" for e in audit)
    assert audit[0]["before"] == {} and audit[0]["after"]["state"] == "new"
    assert audit[1]["before"]["state"] == "new" and audit[1]["after"]["state"] == "dispatched"
    assert audit[1]["detail"] == {"lead_unit": "pm01", "co_units": ["cc01"]}
    assert audit[4]["detail"] == {"summary": "pipe fixed"}
    assert "version" not in audit[2]["after"]


def test_if_match_required_and_forms(api: Api) -> None:
    client = api()
    req = intake(client)
    url = f"/v1/requests/{req['id']}/actions"
    r = client.post(url, json={"action": "dispatch", "lead_unit": "cc01"})
    assert r.status_code == 428 and "If-Match" in r.json()["detail"]
    r = client.post(url, json={"action": "dispatch", "lead_unit": "cc01"}, headers={"If-Match": "abc"})
    assert r.status_code == 400
    r = client.post(url, json={"action": "dispatch", "lead_unit": "cc01"}, headers={"If-Match": "1"})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    r = client.post(url, json={"action": "accept"}, headers={"If-Match": 'W/"2"'})
    assert r.status_code == 200 and r.json()["state"] == "accepted"


def test_stale_version_is_412_with_current(api: Api) -> None:
    client = api()
    req = intake(client)
    fresh = act(client, req, {"action": "dispatch", "lead_unit": "cc01"})
    r = client.post(
        f"/v1/requests/{req['id']}/actions", json={"action": "note", "text": "x"}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 412
    assert r.headers["ETag"] == '"2"'
    body = r.json()
    assert "version 2" in body["detail"]
    assert Request.model_validate(body["current"]) == Request.model_validate(fresh)


def test_refused_transition_is_409_and_changes_nothing(api: Api, live_server: LiveServer) -> None:
    client = api()
    req = intake(client)
    body = act(client, req, {"action": "resolve"}, expect=409)
    assert "cannot resolve" in body["detail"] and "new" in body["detail"]
    assert client.get(f"/v1/requests/{req['id']}").json()["version"] == 1
    assert live_server.store.head() == 1


def test_unknown_units_are_422(api: Api) -> None:
    client = api()
    req = intake(client)
    body = act(client, req, {"action": "dispatch", "lead_unit": "cc01", "co_units": ["nope"]}, expect=422)
    assert "nope" in body["detail"]
    body = act(client, req, {"action": "dispatch", "lead_unit": "ghost"}, expect=422)
    assert "ghost" in body["detail"]
    # A refused state wins over the unit check: a merged request is 409 whatever the units.
    req = act(client, req, {"action": "merge", "parent_id": intake(client)["id"]})
    act(client, req, {"action": "dispatch", "lead_unit": "ghost"}, expect=409)


def test_merge_rules(api: Api) -> None:
    client = api()
    parent, child, other = intake(client), intake(client), intake(client)
    body = act(client, child, {"action": "merge", "parent_id": "R-424242"}, expect=422)
    assert "R-424242" in body["detail"]
    act(client, child, {"action": "merge", "parent_id": child["id"]}, expect=409)
    merged = act(client, child, {"action": "merge", "parent_id": parent["id"]})
    assert merged["state"] == "merged" and merged["merged_into"] == parent["id"]
    # Cannot merge into a merged request ...
    body = act(client, other, {"action": "merge", "parent_id": child["id"]}, expect=409)
    assert "itself merged" in body["detail"]
    # ... nor merge away a request others are merged into.
    body = act(client, parent, {"action": "merge", "parent_id": other["id"]}, expect=409)
    assert child["id"] in body["detail"]
    restored = act(client, merged, {"action": "unmerge"})
    assert restored["state"] == "new" and restored["merged_into"] is None
    act(client, parent, {"action": "merge", "parent_id": other["id"]})


def test_resolving_a_parent_resolves_what_was_merged_into_it_so_every_caller_gets_a_callback(
    api: Api, live_server: LiveServer
) -> None:
    client = api()
    parent, first, second, unmerged = intake(client), intake(client), intake(client), intake(client)
    first = act(client, first, {"action": "merge", "parent_id": parent["id"]})
    second = act(client, second, {"action": "merge", "parent_id": parent["id"]})
    unmerged = act(client, unmerged, {"action": "merge", "parent_id": parent["id"]})
    unmerged = act(client, unmerged, {"action": "unmerge"})
    parent = act(client, parent, {"action": "dispatch", "lead_unit": "cc01"})
    parent = act(client, parent, {"action": "accept"})
    head = live_server.store.head()
    parent = act(client, parent, {"action": "resolve", "summary": "已修复"})
    assert parent["state"] == "resolved" and parent["change_seq"] == head + 1

    children = [client.get(f"/v1/requests/{r['id']}").json() for r in (first, second)]
    for child, before in zip(children, (first, second), strict=True):
        assert child["state"] == "resolved" and child["merged_into"] == parent["id"]
        assert child["version"] == before["version"] + 1 and child["caller"] == before["caller"]
        audit = client.get(f"/v1/requests/{child['id']}/audit").json()
        assert audit[-1]["action"] == "resolve" and audit[-1]["detail"] == {"with_parent": parent["id"]}
    assert live_server.store.head() == head + 3  # the parent's change, then one per child
    assert client.get(f"/v1/requests/{unmerged['id']}").json()["state"] == "new"  # not merged now

    # Each caller is called back on their own request.
    logged = act(client, children[0], {"action": "callback", "reached": True, "solved": True,
                                       "satisfaction": "satisfied"})  # fmt: skip
    assert logged["state"] == "closed" and len(logged["callbacks"]) == 1
    act(client, children[1], {"action": "callback", "reached": False})
    # The parent, reopened, may be merged again: its children were handled with it.
    parent = act(client, parent, {"action": "reopen", "reason": "漏水又出现了"})
    act(client, parent, {"action": "merge", "parent_id": unmerged["id"]})


def test_a_request_merged_into_a_parent_already_handled_is_resolved_at_once(
    api: Api, live_server: LiveServer
) -> None:
    client = api()
    parent = intake(client)
    resolve = {"action": "resolve", "summary": "已修复"}
    for action in ({"action": "dispatch", "lead_unit": "cc01"}, {"action": "accept"}, resolve):
        parent = act(client, parent, action)
    late = intake(client)  # the same incident, reported after it was handled
    head = live_server.store.head()
    merged = act(client, late, {"action": "merge", "parent_id": parent["id"]})
    assert merged["state"] == "merged" and merged["change_seq"] == head + 1  # the answer: the merge
    assert live_server.store.head() == head + 2
    now = client.get(f"/v1/requests/{late['id']}").json()
    assert now["state"] == "resolved" and now["merged_into"] == parent["id"]
    assert [e["action"] for e in client.get(f"/v1/requests/{late['id']}/audit").json()][-2:] == [
        "merge",
        "resolve",
    ]
    # a closed parent too: the caller still gets a callback
    closed = act(client, parent, {"action": "close", "code": "withdrawn"})
    later = act(client, intake(client), {"action": "merge", "parent_id": closed["id"]})
    assert client.get(f"/v1/requests/{later['id']}").json()["state"] == "resolved"
    act(client, {**later, "version": later["version"] + 1}, {"action": "callback", "reached": False})


def test_idempotent_intake(api: Api, live_server: LiveServer) -> None:
    alice, bob = api(name="alice"), api(name="bob")
    key = {"Idempotency-Key": "intake-0001"}
    first = alice.post("/v1/requests", json=new_request(), headers=key)
    again = alice.post("/v1/requests", json=new_request(), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert live_server.store.head() == 1
    # Same key, different body: 422, nothing stored.
    r = alice.post("/v1/requests", json=new_request(description="another"), headers=key)
    assert r.status_code == 422 and "different body" in r.json()["detail"]
    # Same key on another path: 422.
    r = alice.post(
        f"/v1/requests/{first.json()['id']}/actions",
        json={"action": "accept"},
        headers={**key, "If-Match": "1"},
    )
    assert r.status_code == 422
    # Keys are scoped per token holder: bob's identical key is a new request.
    other = bob.post("/v1/requests", json=new_request(), headers=key)
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert other.json()["id"] != first.json()["id"]
    assert live_server.store.head() == 2
    assert alice.post("/v1/requests", json=new_request(), headers={"Idempotency-Key": ""}).status_code == 422
    assert (
        alice.post("/v1/requests", json=new_request(), headers={"Idempotency-Key": "k" * 201}).status_code
        == 422
    )


def test_idempotent_action_replays_before_version_check(api: Api, live_server: LiveServer) -> None:
    client = api()
    req = intake(client)
    headers = {"If-Match": '"1"', "Idempotency-Key": "act-1"}
    url = f"/v1/requests/{req['id']}/actions"
    first = client.post(url, json={"action": "dispatch", "lead_unit": "cc01"}, headers=headers)
    assert first.status_code == 200
    act(client, first.json(), {"action": "accept"})
    # The request is at version 3 now; the retried call still gets its first answer.
    again = client.post(url, json={"action": "dispatch", "lead_unit": "cc01"}, headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and again.headers["ETag"] == '"2"'
    assert live_server.store.head() == 3
    r = client.post(url, json={"action": "dispatch", "lead_unit": "cc02"}, headers=headers)
    assert r.status_code == 422


def test_open_routes_and_openapi(api: Api, live_server: LiveServer) -> None:
    health = httpx.get(f"{live_server.url}/v1/health", timeout=30)
    assert health.status_code == 200 and health.json() == {"status": "ok", "head": 0}
    doc = httpx.get(f"{live_server.url}/openapi.json", timeout=30).json()
    for path in (
        "/v1/requests",
        "/v1/requests/{request_id}/actions",
        "/v1/changes",
        "/v1/events",
        "/v1/stats",
    ):
        assert path in doc["paths"]
