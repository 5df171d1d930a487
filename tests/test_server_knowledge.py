"""The knowledge base on a real server: who may edit it, versions, validation, the audit of its
edits, and the direct answer (直接答复): the entry checked, recorded in the request's audit trail,
and the request in no rate (docs/rates.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from server_helpers import act, intake

from api_client.models import now_utc
from central_api.knowledge_seed import seed_entries, seed_knowledge
from central_api.knowledge_store import centre_day
from central_api.server import LiveServer

ApiFactory = Callable[..., httpx.Client]


def entry(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "低保申请",
        "answer": "持户口簿和身份证到街道社会保障所申请。",
        "category": "policy_enquiry",
        "keywords": ["低保", "救助"],
        "owner": "街道社会保障所",
    }
    body.update(overrides)
    return body


def made(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/knowledge", json=entry(**overrides))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def enquiry(client: httpx.Client) -> dict[str, Any]:
    return intake(client, type="enquiry", category="policy_enquiry", description="想问一下低保怎么申请")


def test_create_read_replace_withdraw_and_the_audit(api: ApiFactory) -> None:
    supervisor = api("supervisor", "陈主任")
    dispatcher = api("dispatcher")
    assert dispatcher.get("/v1/knowledge").json() == []

    created = supervisor.post("/v1/knowledge", json=entry())
    assert created.status_code == 201, created.text
    first = created.json()
    assert first["id"] == "KB-0001" and first["version"] == 1 and first["updated_by"] == "陈主任"
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == "/v1/knowledge/KB-0001"
    assert made(supervisor, title="养老补贴")["id"] == "KB-0002"

    one = dispatcher.get("/v1/knowledge/KB-0001")
    assert one.status_code == 200 and one.headers["ETag"] == '"1"' and one.json() == first

    assert supervisor.put("/v1/knowledge/KB-0001", json=entry(title="低保")).json()["code"] == (
        "knowledge_version_required"
    )
    stale = supervisor.put("/v1/knowledge/KB-0001", json=entry(), headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "knowledge_version_mismatch" and stale.json()["current"] == first
    replaced = supervisor.put(
        "/v1/knowledge/KB-0001", json=entry(title="低保怎么申请"), headers={"If-Match": '"1"'}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["title"] == "低保怎么申请" and replaced.json()["version"] == 2

    withdrawn = supervisor.delete("/v1/knowledge/KB-0001", headers={"If-Match": "2"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["withdrawn"] is True and withdrawn.json()["version"] == 3
    again = supervisor.delete("/v1/knowledge/KB-0001")
    assert again.json()["version"] == 3  # withdrawing again changes nothing
    listed = dispatcher.get("/v1/knowledge").json()
    assert [(e["id"], e["withdrawn"]) for e in listed] == [("KB-0001", True), ("KB-0002", False)]

    audit = dispatcher.get("/v1/knowledge/audit", params={"entry": "KB-0001"}).json()
    assert [(e["action"], e["actor"]) for e in audit] == [
        ("create", "陈主任"),
        ("replace", "陈主任"),
        ("withdraw", "陈主任"),
    ]
    assert audit[0]["before"] is None and audit[0]["after"]["title"] == "低保申请"
    assert audit[1]["before"]["title"] == "低保申请" and audit[1]["after"]["title"] == "低保怎么申请"
    assert audit[2]["after"]["withdrawn"] is True
    assert len(dispatcher.get("/v1/knowledge/audit").json()) == 4


def test_only_a_supervisor_or_an_admin_edits(api: ApiFactory) -> None:
    dispatcher = api("dispatcher")
    assert dispatcher.post("/v1/knowledge", json=entry()).status_code == 403
    existing = made(api("admin"))
    assert (
        dispatcher.put(f"/v1/knowledge/{existing['id']}", json=entry(), headers={"If-Match": "1"}).status_code
        == 403
    )
    assert dispatcher.delete(f"/v1/knowledge/{existing['id']}").status_code == 403
    assert dispatcher.get(f"/v1/knowledge/{existing['id']}").json()["withdrawn"] is False


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (entry(category="no_such"), "unknown_category"),
        (entry(valid_from="2026-05-01", valid_until="2026-04-30"), "knowledge_dates_reversed"),
        (entry(title="  "), "invalid_field"),
        (entry(answer="x" * 4001), "invalid_field"),
        ({**entry(), "id": "mine"}, "invalid_field"),
        (entry(keywords=["k"] * 41), "invalid_field"),
    ],
)
def test_bad_entries_are_refused(api: ApiFactory, body: dict[str, Any], code: str) -> None:
    response = api("supervisor").post("/v1/knowledge", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


def test_unknown_entries(api: ApiFactory) -> None:
    supervisor = api("supervisor")
    assert supervisor.get("/v1/knowledge/KB-9").json()["code"] == "knowledge_entry_not_found"
    assert supervisor.get("/v1/knowledge/KB-9").status_code == 404
    assert supervisor.put("/v1/knowledge/KB-9", json=entry(), headers={"If-Match": "1"}).status_code == 404
    assert supervisor.delete("/v1/knowledge/KB-9").status_code == 404


def test_a_direct_answer_closes_the_enquiry_and_the_audit_names_the_entry(api: ApiFactory) -> None:
    supervisor, dispatcher = api("supervisor"), api("dispatcher", "李接线员")
    kb = made(supervisor)
    request = enquiry(dispatcher)
    answered = act(dispatcher, request, {"action": "answer", "entry_id": kb["id"], "text": "已告知材料"})
    assert answered["state"] == "closed" and answered["answered_with"] == kb["id"]
    assert answered["closed_at"] is not None and answered["dispatched_at"] is None
    assert answered["history"][-1]["action"] == "answer" and answered["history"][-1]["entry"] == kb["id"]

    audit = dispatcher.get(f"/v1/requests/{request['id']}/audit").json()
    last = audit[-1]
    assert last["action"] == "answer" and last["actor"] == "李接线员"
    assert last["detail"]["entry_id"] == kb["id"] and last["after"]["answered_with"] == kb["id"]


def test_only_an_entry_in_force_may_be_cited(api: ApiFactory) -> None:
    supervisor, dispatcher = api("supervisor"), api("dispatcher")
    today = centre_day(now_utc())
    expired = made(supervisor, valid_until=(today - timedelta(days=1)).isoformat())
    future = made(supervisor, valid_from=(today + timedelta(days=1)).isoformat())
    withdrawn = made(supervisor)
    supervisor.delete(f"/v1/knowledge/{withdrawn['id']}")
    request = enquiry(dispatcher)
    for kb in (expired, future, withdrawn):
        refused = act(dispatcher, request, {"action": "answer", "entry_id": kb["id"]}, expect=409)
        assert refused["code"] == "knowledge_entry_not_in_force"
        assert refused["params"]["entry_id"] == kb["id"]
    unknown = act(dispatcher, request, {"action": "answer", "entry_id": "KB-404"}, expect=422)
    assert unknown["code"] == "knowledge_entry_unknown" and unknown["params"] == {"entry_id": "KB-404"}
    today_only = made(supervisor, valid_from=today.isoformat(), valid_until=today.isoformat())
    assert act(dispatcher, request, {"action": "answer", "entry_id": today_only["id"]})["state"] == "closed"


def test_only_a_new_enquiry_is_answered_directly(api: ApiFactory) -> None:
    supervisor, dispatcher = api("supervisor"), api("dispatcher")
    kb = made(supervisor)
    help_request = intake(dispatcher)  # a roof leak: help, not an enquiry
    refused = act(dispatcher, help_request, {"action": "answer", "entry_id": kb["id"]}, expect=409)
    assert refused["code"] == "answer_needs_enquiry"
    request = enquiry(dispatcher)
    dispatched = act(dispatcher, request, {"action": "dispatch", "lead_unit": "st-welfare"})
    assert act(dispatcher, dispatched, {"action": "answer", "entry_id": kb["id"]}, expect=409)["code"] == (
        "transition_refused"
    )


def test_a_direct_answer_is_in_no_rate(api: ApiFactory) -> None:
    supervisor, dispatcher = api("supervisor"), api("dispatcher")
    kb = made(supervisor)
    act(dispatcher, enquiry(dispatcher), {"action": "answer", "entry_id": kb["id"]})
    act(dispatcher, enquiry(dispatcher), {"action": "answer", "entry_id": kb["id"]})
    other = act(dispatcher, enquiry(dispatcher), {"action": "dispatch", "lead_unit": "st-welfare"})
    act(dispatcher, other, {"action": "accept"})
    stats = dispatcher.get("/v1/stats").json()
    assert stats["answered_directly"] == 2
    assert stats["by_state"]["closed"] == 2
    rates = stats["rates"]
    assert rates["dispatched"] == 1 and rates["response_counted"] == 1 and rates["responded_in_time"] == 1
    assert rates["valid_callbacks"] == 0 and rates["resolution"] is None and rates["satisfaction"] is None


def test_the_demo_entries(live_server: LiveServer, api: ApiFactory) -> None:
    assert seed_knowledge(live_server.store) == len(seed_entries()) >= 50
    assert seed_knowledge(live_server.store) == 0  # seeding again adds nothing
    listed = api("dispatcher").get("/v1/knowledge").json()
    assert [e["id"] for e in listed] == [entry_id for entry_id, _ in seed_entries()]
    assert {e["updated_by"] for e in listed} == {"seed"}


def test_an_answer_sent_again_after_its_entry_was_withdrawn_is_replayed(api: ApiFactory) -> None:
    supervisor, dispatcher = api("supervisor"), api("dispatcher")
    kb = made(supervisor)
    request = enquiry(dispatcher)
    headers = {"If-Match": f'"{request["version"]}"', "Idempotency-Key": "answer-once"}
    body = {"action": "answer", "entry_id": kb["id"]}
    first = dispatcher.post(f"/v1/requests/{request['id']}/actions", json=body, headers=headers)
    assert first.status_code == 200, first.text
    supervisor.delete(f"/v1/knowledge/{kb['id']}")
    again = dispatcher.post(f"/v1/requests/{request['id']}/actions", json=body, headers=headers)
    assert again.status_code == 200, again.text  # the answer it took, not a refusal of the entry now
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()


def test_an_empty_if_match_is_malformed(api: ApiFactory) -> None:
    supervisor = api("supervisor")
    kb = made(supervisor)
    for response in (
        supervisor.delete(f"/v1/knowledge/{kb['id']}", headers={"If-Match": ""}),
        supervisor.put(f"/v1/knowledge/{kb['id']}", json=entry(), headers={"If-Match": ""}),
    ):
        assert response.status_code == 400 and response.json()["code"] == "invalid_if_match"
    assert supervisor.get(f"/v1/knowledge/{kb['id']}").json()["withdrawn"] is False
