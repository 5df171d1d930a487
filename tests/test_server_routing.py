"""Routing rules on a real server: who may change them, versions, validation, the audit list of
rule changes, and auto-dispatch at intake (audited as `auto:<rule id>`, undone by a return)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conftest import bearer
from server_helpers import act, intake, new_request

from api_client.client import HotlineClient
from api_client.errors import Forbidden, InvalidRequest, RuleConflict
from api_client.models import NewRequest, RoutingRuleIn
from central_api.server import LiveServer

ApiFactory = Callable[..., httpx.Client]


def rule(**overrides: Any) -> dict[str, Any]:
    """A roof-leak rule for every community: pm01 leads, hm01 joins."""
    body: dict[str, Any] = {
        "category": "roof_leak",
        "community": "*",
        "lead_unit": "pm01",
        "co_units": ["hm01"],
        "auto_dispatch": False,
    }
    body.update(overrides)
    return body


def put(
    client: httpx.Client, rule_id: str, body: dict[str, Any], *, version: int | None = None
) -> httpx.Response:
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    return client.put(f"/v1/routing-rules/{rule_id}", json=body, headers=headers)


def audit_of(client: httpx.Client, request_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/requests/{request_id}/audit")
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


# ----- the rules ---------------------------------------------------------------------------


def test_create_list_replace_and_delete(api: ApiFactory) -> None:
    supervisor = api("supervisor", "陈主任")
    dispatcher = api("dispatcher")
    assert dispatcher.get("/v1/routing-rules").json() == []

    created = put(supervisor, "roof-any", rule())
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == "/v1/routing-rules/roof-any"
    body = created.json()
    assert body["id"] == "roof-any" and body["version"] == 1
    assert body["updated_by"] == "陈主任" and body["lead_unit"] == "pm01" and body["co_units"] == ["hm01"]

    replaced = put(supervisor, "roof-any", rule(lead_unit="pm02", auto_dispatch=True), version=1)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2 and replaced.json()["auto_dispatch"] is True

    listed = dispatcher.get("/v1/routing-rules").json()
    assert [(r["id"], r["lead_unit"], r["version"]) for r in listed] == [("roof-any", "pm02", 2)]

    deleted = supervisor.delete("/v1/routing-rules/roof-any", headers={"If-Match": '"2"'})
    assert deleted.status_code == 200 and deleted.json()["lead_unit"] == "pm02"
    assert dispatcher.get("/v1/routing-rules").json() == []
    assert supervisor.delete("/v1/routing-rules/roof-any").status_code == 404


def test_rules_are_listed_by_category_exact_communities_before_the_wildcard(api: ApiFactory) -> None:
    admin = api("admin")
    assert put(admin, "r-any", rule()).status_code == 201
    assert put(admin, "r-c02", rule(community="c02")).status_code == 201
    assert put(admin, "gas", rule(category="gas_leak", lead_unit="ut-gas", co_units=[])).status_code == 201
    assert [r["id"] for r in admin.get("/v1/routing-rules").json()] == ["gas", "r-c02", "r-any"]


def test_dispatchers_may_read_but_not_change_rules(api: ApiFactory) -> None:
    supervisor, dispatcher = api("supervisor"), api("dispatcher")
    assert put(supervisor, "roof", rule()).status_code == 201
    refused = put(dispatcher, "roof2", rule(community="c01"))
    assert refused.status_code == 403 and "supervisor" in refused.json()["detail"]
    assert dispatcher.delete("/v1/routing-rules/roof").status_code == 403
    switch = dispatcher.post(
        "/v1/routing-rules/auto-dispatch", json={"category": "roof_leak", "auto_dispatch": True}
    )
    assert switch.status_code == 403
    assert [r["id"] for r in dispatcher.get("/v1/routing-rules").json()] == ["roof"]
    assert dispatcher.get("/v1/routing-rules/audit").status_code == 200


def test_unauthenticated_calls_are_refused(live_server: LiveServer) -> None:
    with httpx.Client(timeout=30, base_url=live_server.url) as anonymous:
        assert anonymous.get("/v1/routing-rules").status_code == 401
        assert anonymous.put("/v1/routing-rules/x", json=rule()).status_code == 401


def test_replacing_needs_the_current_version(api: ApiFactory) -> None:
    first, second = api("supervisor", "first"), api("supervisor", "second")
    assert put(first, "roof", rule()).status_code == 201
    assert put(second, "roof", rule(lead_unit="pm03"), version=1).status_code == 200

    stale = put(first, "roof", rule(lead_unit="pm02"), version=1)
    assert stale.status_code == 412
    assert stale.headers["ETag"] == '"2"'
    assert stale.json()["current"]["lead_unit"] == "pm03"
    assert stale.json()["current"]["updated_by"] == "second"

    blind = put(first, "roof", rule(lead_unit="pm02"))
    assert blind.status_code == 428 and "If-Match" in blind.json()["detail"]

    assert first.delete("/v1/routing-rules/roof", headers={"If-Match": '"1"'}).status_code == 412
    assert first.delete("/v1/routing-rules/roof", headers={"If-Match": '"2"'}).status_code == 200
    gone = put(first, "roof", rule(), version=2)
    assert gone.status_code == 412 and gone.json()["current"] is None
    assert put(first, "roof", rule(), version="x").status_code == 400  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (rule(category="no_such_thing"), "category"),
        (rule(community="c99"), "community"),
        (rule(lead_unit="nobody"), "unit"),
        (rule(co_units=["hm01", "ghost"]), "unit"),
    ],
)
def test_unknown_category_community_or_unit_is_422(api: ApiFactory, body: dict[str, Any], field: str) -> None:
    response = put(api("supervisor"), "bad", body)
    assert response.status_code == 422
    assert field in response.json()["detail"].lower()
    assert api("dispatcher").get("/v1/routing-rules").json() == []


@pytest.mark.parametrize(
    "body",
    [
        rule(co_units=["pm01"]),  # the lead again
        rule(co_units=["hm01", "hm01"]),
        rule(surprise=True),  # an unknown field
        rule(auto_dispatch="sometimes"),
        {"community": "*", "lead_unit": "pm01"},  # no category
    ],
)
def test_malformed_rules_are_422(api: ApiFactory, body: dict[str, Any]) -> None:
    response = put(api("supervisor"), "bad", body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"]


def test_a_bad_rule_id_is_422(api: ApiFactory) -> None:
    assert put(api("supervisor"), "has space", rule()).status_code == 422


def test_two_rules_for_the_same_category_and_community_clash(api: ApiFactory) -> None:
    supervisor = api("supervisor")
    assert put(supervisor, "a", rule(community="c01")).status_code == 201
    clash = put(supervisor, "b", rule(community="c01", lead_unit="pm02"))
    assert clash.status_code == 409 and "a" in clash.json()["detail"]
    assert put(supervisor, "b", rule(community="c02")).status_code == 201


def test_every_rule_change_is_audited(api: ApiFactory) -> None:
    alice, bob = api("supervisor", "alice"), api("admin", "bob")
    assert put(alice, "roof", rule()).status_code == 201
    assert put(bob, "roof", rule(auto_dispatch=True), version=1).status_code == 200
    assert put(alice, "gas", rule(category="gas_leak", lead_unit="ut-gas", co_units=[])).status_code == 201
    assert bob.delete("/v1/routing-rules/roof").status_code == 200

    events = api("dispatcher").get("/v1/routing-rules/audit").json()
    assert [(e["rule_id"], e["action"], e["actor"]) for e in events] == [
        ("roof", "create", "alice"),
        ("roof", "replace", "bob"),
        ("gas", "create", "alice"),
        ("roof", "delete", "bob"),
    ]
    created, replaced, _gas, deleted = events
    assert created["before"] is None and created["after"]["version"] == 1
    assert replaced["before"]["auto_dispatch"] is False and replaced["after"]["auto_dispatch"] is True
    assert deleted["before"]["version"] == 2 and deleted["after"] is None
    assert all(e["at"] for e in events)
    assert events == sorted(events, key=lambda e: e["id"])

    only_gas = api("dispatcher").get("/v1/routing-rules/audit", params={"rule": "gas"}).json()
    assert [e["action"] for e in only_gas] == ["create"]


def test_refused_changes_are_not_audited(api: ApiFactory) -> None:
    supervisor = api("supervisor")
    assert put(supervisor, "bad", rule(lead_unit="nobody")).status_code == 422
    assert put(api("dispatcher"), "x", rule()).status_code == 403
    assert supervisor.get("/v1/routing-rules/audit").json() == []


def test_auto_dispatch_switch_for_a_category(api: ApiFactory) -> None:
    supervisor = api("supervisor", "值班长")
    assert put(supervisor, "roof", rule()).status_code == 201
    assert (
        put(supervisor, "roof-c02", rule(community="c02", lead_unit="cc02", co_units=[])).status_code == 201
    )
    assert (
        put(supervisor, "gas", rule(category="gas_leak", lead_unit="ut-gas", co_units=[])).status_code == 201
    )

    on = supervisor.post(
        "/v1/routing-rules/auto-dispatch", json={"category": "roof_leak", "auto_dispatch": True}
    )
    assert on.status_code == 200, on.text
    assert [(r["id"], r["auto_dispatch"], r["version"]) for r in on.json()] == [
        ("roof-c02", True, 2),
        ("roof", True, 2),
    ]
    rules = {r["id"]: r for r in supervisor.get("/v1/routing-rules").json()}
    assert rules["gas"]["auto_dispatch"] is False
    assert rules["roof"]["updated_by"] == "值班长"
    changed = [
        e["rule_id"] for e in supervisor.get("/v1/routing-rules/audit").json() if e["action"] == "replace"
    ]
    assert sorted(changed) == ["roof", "roof-c02"]

    unknown = supervisor.post(
        "/v1/routing-rules/auto-dispatch", json={"category": "nope", "auto_dispatch": True}
    )
    assert unknown.status_code == 422


# ----- auto-dispatch at intake -------------------------------------------------------------


def test_intake_is_auto_dispatched_by_a_matching_rule_and_audited(api: ApiFactory) -> None:
    supervisor, dispatcher = api("supervisor"), api("dispatcher", "接线员")
    assert put(supervisor, "roof", rule(auto_dispatch=True)).status_code == 201

    request = intake(dispatcher)
    assert request["state"] == "dispatched"
    assert request["lead_unit"] == "pm01" and request["co_units"] == ["hm01"]
    assert request["version"] == 2 and request["dispatched_at"]

    events = audit_of(dispatcher, request["id"])
    assert [(e["action"], e["actor"]) for e in events] == [("intake", "接线员"), ("dispatch", "auto:roof")]
    dispatch = events[1]
    assert dispatch["detail"]["rule"] == "roof" and dispatch["detail"]["automatic"] is True
    assert dispatch["detail"]["rule_version"] == 1
    assert dispatch["after"]["state"] == "dispatched" and dispatch["before"]["state"] == "new"

    # The change feed carries both steps, in order; the stored request is the dispatched one.
    changes = dispatcher.get("/v1/changes").json()["changes"]
    assert [(c["action"], c["request"]["state"]) for c in changes] == [
        ("intake", "new"),
        ("dispatch", "dispatched"),
    ]
    assert dispatcher.get(f"/v1/requests/{request['id']}").json() == request


def test_a_rule_without_auto_dispatch_leaves_intake_new(api: ApiFactory) -> None:
    supervisor, dispatcher = api("supervisor"), api("dispatcher")
    assert put(supervisor, "roof", rule(auto_dispatch=False)).status_code == 201
    request = intake(dispatcher)
    assert request["state"] == "new" and request["lead_unit"] is None
    assert [e["action"] for e in audit_of(dispatcher, request["id"])] == ["intake"]
    other = intake(dispatcher, category="noise")  # no rule at all
    assert other["state"] == "new"


def test_an_exact_community_rule_beats_the_wildcard(api: ApiFactory) -> None:
    supervisor, dispatcher = api("supervisor"), api("dispatcher")
    assert put(supervisor, "roof-any", rule(auto_dispatch=True)).status_code == 201
    assert (
        put(
            supervisor, "roof-c01", rule(community="c01", lead_unit="cc01", co_units=[], auto_dispatch=True)
        ).status_code
        == 201
    )

    in_c01 = intake(dispatcher)
    assert (in_c01["lead_unit"], in_c01["co_units"]) == ("cc01", [])
    assert audit_of(dispatcher, in_c01["id"])[-1]["actor"] == "auto:roof-c01"

    location = {"street": "新康街", "community": "c02", "address": "新康街 5 号"}
    in_c02 = intake(dispatcher, location=location)
    assert in_c02["lead_unit"] == "pm01"
    assert audit_of(dispatcher, in_c02["id"])[-1]["actor"] == "auto:roof-any"

    nowhere = intake(dispatcher, location={"address": "somewhere"})  # unknown community: only `*` rules
    assert nowhere["lead_unit"] == "pm01"


def test_an_exact_rule_without_auto_dispatch_keeps_its_community_manual(api: ApiFactory) -> None:
    supervisor, dispatcher = api("supervisor"), api("dispatcher")
    assert put(supervisor, "roof-any", rule(auto_dispatch=True)).status_code == 201
    assert (
        put(supervisor, "roof-c01", rule(community="c01", lead_unit="cc01", co_units=[])).status_code == 201
    )
    assert intake(dispatcher)["state"] == "new"


def test_no_auto_dispatch_to_an_off_duty_lead_unit(api: ApiFactory) -> None:
    supervisor, dispatcher = api("supervisor"), api("dispatcher")
    assert put(supervisor, "roof", rule(auto_dispatch=True)).status_code == 201
    assert supervisor.patch("/v1/units/pm01", json={"on_duty": False}).status_code == 200
    assert intake(dispatcher)["state"] == "new"
    assert supervisor.patch("/v1/units/pm01", json={"on_duty": True}).status_code == 200
    assert intake(dispatcher)["state"] == "dispatched"


def test_an_auto_dispatched_request_can_be_returned_and_dispatched_again(api: ApiFactory) -> None:
    supervisor, dispatcher = api("supervisor"), api("dispatcher", "李")
    assert put(supervisor, "roof", rule(auto_dispatch=True)).status_code == 201
    request = intake(dispatcher)

    returned = act(dispatcher, request, {"action": "return", "reason": "自动派错了，应由房管所牵头"})
    assert returned["state"] == "returned" and returned["lead_unit"] is None
    again = act(dispatcher, returned, {"action": "dispatch", "lead_unit": "hm01", "co_units": ["pm01"]})
    assert again["state"] == "dispatched" and again["lead_unit"] == "hm01"
    assert [(e["action"], e["actor"]) for e in audit_of(dispatcher, request["id"])] == [
        ("intake", "李"),
        ("dispatch", "auto:roof"),
        ("return", "李"),
        ("dispatch", "李"),
    ]
    # Re-dispatching straight away, without a return, works too.
    other = intake(dispatcher)
    moved = act(dispatcher, other, {"action": "dispatch", "lead_unit": "pm03"})
    assert moved["lead_unit"] == "pm03" and moved["co_units"] == []


def test_a_replayed_intake_answers_the_dispatched_request_once(
    live_server: LiveServer, make_token: Callable[..., str]
) -> None:
    supervisor = httpx.Client(timeout=30, base_url=live_server.url, headers=bearer(make_token("supervisor")))
    dispatcher = httpx.Client(timeout=30, base_url=live_server.url, headers=bearer(make_token("dispatcher")))
    with supervisor, dispatcher:
        assert put(supervisor, "roof", rule(auto_dispatch=True)).status_code == 201
        headers = {"Idempotency-Key": "intake-1"}
        first = dispatcher.post("/v1/requests", json=new_request(), headers=headers)
        again = dispatcher.post("/v1/requests", json=new_request(), headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json() and first.json()["state"] == "dispatched"
        assert len(dispatcher.get("/v1/changes").json()["changes"]) == 2


def test_bulk_intake_is_auto_dispatched_too(live_server: LiveServer, make_token: Callable[..., str]) -> None:
    store = live_server.store
    supervisor = httpx.Client(timeout=30, base_url=live_server.url, headers=bearer(make_token("supervisor")))
    with supervisor:
        assert put(supervisor, "roof", rule(auto_dispatch=True)).status_code == 201
    news = [
        NewRequest.model_validate(new_request()),
        NewRequest.model_validate(new_request(category="noise")),
    ]
    made = store.create_requests(news, actor="import")
    assert [r.state.value for r in made] == ["dispatched", "new"]
    changes, head = store.changes(0, 100)
    assert [(c.seq, c.action) for c in changes] == [(1, "intake"), (2, "dispatch"), (3, "intake")]
    assert head == 3 and made[0].change_seq == 2 and made[1].change_seq == 3
    assert store.audit(made[0].id)[-1].actor == "auto:roof"


# ----- the client --------------------------------------------------------------------------


async def test_the_client_reads_and_changes_rules(
    live_server: LiveServer, make_token: Callable[..., str]
) -> None:
    async with (
        HotlineClient(live_server.url, make_token("supervisor", "sup")) as supervisor,
        HotlineClient(live_server.url, make_token("dispatcher")) as dispatcher,
    ):
        body = RoutingRuleIn(category="roof_leak", lead_unit="pm01", co_units=["hm01"])
        created = await supervisor.put_routing_rule("roof", body)
        assert created.version == 1 and created.updated_by == "sup" and created.community == "*"
        replaced = await supervisor.put_routing_rule(
            "roof", body.model_copy(update={"lead_unit": "pm02"}), version=created.version
        )
        assert replaced.version == 2
        with pytest.raises(RuleConflict) as stale:
            await supervisor.put_routing_rule("roof", body, version=1)
        assert stale.value.current is not None and stale.value.current.lead_unit == "pm02"

        switched = await supervisor.set_auto_dispatch("roof_leak", True)
        assert [r.auto_dispatch for r in switched] == [True]
        assert await dispatcher.routing_rules() == switched

        with pytest.raises(Forbidden):
            await dispatcher.put_routing_rule("x", body)
        with pytest.raises(InvalidRequest):
            await supervisor.put_routing_rule("x", body.model_copy(update={"community": "c99"}))

        deleted = await supervisor.delete_routing_rule("roof", version=3)
        assert deleted.lead_unit == "pm02"
        assert await dispatcher.routing_rules() == []
        events = await dispatcher.routing_rule_audit("roof")
        assert [e.action for e in events] == ["create", "replace", "replace", "delete"]
        with pytest.raises(RuleConflict) as gone:
            await supervisor.put_routing_rule("roof", body, version=3)
        assert gone.value.current is None
