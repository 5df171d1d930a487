"""The workflow rules through the API, on a real server: each refusal's status and code, each
allowed path, the history the request carries (reasons included) and what an action recorded by
an older app does now."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_helpers import act, intake
from test_sync_support import World, open_world, synced_store

from api_client.actions import Accept, Close, Dispatch, Resolve, Return
from api_client.domain import bounds
from api_client.models import Request, Role, State
from central_api.server import LiveServer
from local_cache.outbox_records import PendingAction

Api = Callable[..., httpx.Client]


def accepted(client: httpx.Client) -> dict[str, Any]:
    """A request dispatched to hm01 and signed for."""
    request = act(client, intake(client), {"action": "dispatch", "lead_unit": "hm01"})
    return act(client, request, {"action": "accept"})


def resolved(client: httpx.Client) -> dict[str, Any]:
    return act(client, accepted(client), {"action": "resolve", "summary": "屋面已修补"})


def refused(client: httpx.Client, request: dict[str, Any], action: dict[str, Any], status: int) -> str:
    """The code the server refuses `action` with, at `status` (a field's, for a body the models
    refuse); the request is left as it was."""
    body = act(client, request, action, expect=status)
    after = client.get(f"/v1/requests/{request['id']}").json()
    assert after["version"] == request["version"] and after["history"] == request["history"]
    code: str = body["errors"][0]["code"] if body["code"] == "invalid_field" else body["code"]
    return code


def last_step(request: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = request["history"][-1]
    return step


# --------------------------------------------------------------------------- resolve


def test_resolve_needs_the_reply_to_the_citizen(api: Api) -> None:
    client = api()
    request = accepted(client)
    assert refused(client, request, {"action": "resolve"}, 422) == "reply_required"
    assert refused(client, request, {"action": "resolve", "summary": "   "}, 422) == "reply_required"
    done = act(client, request, {"action": "resolve", "summary": "屋面已修补，雨后复查不漏"})
    assert done["state"] == "resolved"
    assert (last_step(done)["action"], last_step(done)["text"]) == ("resolve", "屋面已修补，雨后复查不漏")


def test_a_missing_reply_is_422_but_a_wrong_state_stays_409(api: Api) -> None:
    client = api()
    request = intake(client)
    assert refused(client, request, {"action": "resolve"}, 409) == "transition_refused"


# --------------------------------------------------------------------------- return


def test_return_keeps_its_code_and_reason_past_the_next_dispatch(api: Api) -> None:
    client = api()
    request = accepted(client)
    returned = act(client, request, {"action": "return", "code": "wrong_address", "reason": "地址不在本辖区"})
    assert (returned["state"], returned["return_reason"]) == ("returned", "地址不在本辖区")
    again = act(client, returned, {"action": "dispatch", "lead_unit": "cc01"})
    assert again["return_reason"] is None  # the current field clears, the history keeps it
    step = again["history"][-2]
    assert (step["action"], step["code"], step["text"], step["state"]) == (
        "return",
        "wrong_address",
        "地址不在本辖区",
        "returned",
    )


def test_return_codes_are_checked_and_an_older_clients_body_counts_as_other(api: Api) -> None:
    client = api()
    request = accepted(client)
    assert refused(client, request, {"action": "return", "code": "bored", "reason": "x"}, 422) == "enum"
    assert refused(client, request, {"action": "return", "code": "other"}, 422) == "missing"
    returned = act(client, request, {"action": "return", "reason": "不归我们管"})
    assert last_step(returned)["code"] == "other"


# --------------------------------------------------------------------------- callbacks and close


@pytest.mark.parametrize(
    ("solved", "satisfaction"), [(False, "satisfied"), (True, "not_satisfied"), (False, "basically")]
)
def test_an_unsolved_or_unsatisfied_callback_reopens_for_re_handling(
    api: Api, solved: bool, satisfaction: str
) -> None:
    client = api()
    request = resolved(client)
    answer = {"action": "callback", "reached": True, "solved": solved, "satisfaction": satisfaction}
    after = act(client, request, {**answer, "note": "楼道还在渗水"})
    assert (after["state"], after["resolved_at"]) == ("reopened", None)
    step = last_step(after)
    assert (step["action"], step["state"], step["solved"], step["satisfaction"], step["text"]) == (
        "callback",
        "reopened",
        solved,
        satisfaction,
        "楼道还在渗水",
    )
    due = datetime.fromisoformat(after["due_at"])
    assert due == datetime.fromisoformat(step["at"]) + timedelta(hours=24)  # roof_leak: a fresh 24 h
    again = act(
        client, act(client, after, {"action": "accept"}), {"action": "resolve", "summary": "已更换防水层"}
    )
    assert again["state"] == "resolved"


def test_a_solved_and_satisfied_callback_closes(api: Api) -> None:
    client = api()
    answer = {"action": "callback", "reached": True, "solved": True, "satisfaction": "basically"}
    assert act(client, resolved(client), answer)["state"] == "closed"


def test_close_needs_a_reason_code(api: Api) -> None:
    client = api()
    request = resolved(client)
    assert refused(client, request, {"action": "close"}, 422) == "close_reason_required"
    assert refused(client, request, {"action": "close", "code": "other"}, 422) == "reason_text_required"
    assert refused(client, request, {"action": "close", "code": "never"}, 422) == "enum"
    closed = act(client, request, {"action": "close", "code": "withdrawn"})
    assert (closed["state"], last_step(closed)["code"]) == ("closed", "withdrawn")
    other = act(client, resolved(client), {"action": "close", "code": "other", "reason": "市民已搬离"})
    assert (last_step(other)["code"], last_step(other)["text"]) == ("other", "市民已搬离")
    legacy = act(client, resolved(client), {"action": "close", "reason": "三次回访未接通"})  # an older client
    assert last_step(legacy)["code"] == "other"


def test_close_as_unreachable_after_enough_unreached_callbacks(api: Api) -> None:
    client = api()
    request = resolved(client)
    unreachable = {"action": "close", "code": "unreachable"}
    for attempt in range(bounds.MIN_UNREACHED_CALLBACKS):
        assert refused(client, request, unreachable, 409) == "too_few_unreached_callbacks"
        request = act(
            client, request, {"action": "callback", "reached": False, "note": f"第{attempt + 1}次未接通"}
        )
        assert request["state"] == "resolved"
    closed = act(client, request, unreachable)
    assert (closed["state"], last_step(closed)["code"]) == ("closed", "unreachable")


def test_close_in_the_wrong_state_is_409(api: Api) -> None:
    client = api()
    assert (
        refused(client, accepted(client), {"action": "close", "code": "withdrawn"}, 409)
        == "transition_refused"
    )


# --------------------------------------------------------------------------- extend


def test_extensions_are_limited_in_number_for_everyone(api: Api) -> None:
    dispatcher, supervisor = api(), api(Role.supervisor)
    request = accepted(dispatcher)
    for n in range(bounds.MAX_EXTENSIONS):
        due = datetime.fromisoformat(request["due_at"]) + timedelta(days=1)
        request = act(
            dispatcher, request, {"action": "extend", "reason": f"第{n + 1}次", "new_due_at": due.isoformat()}
        )
        step = last_step(request)
        assert (step["action"], step["text"], datetime.fromisoformat(step["due_at"])) == (
            "extend",
            f"第{n + 1}次",
            due,
        )
    later = (datetime.fromisoformat(request["due_at"]) + timedelta(days=1)).isoformat()
    third = {"action": "extend", "reason": "再延", "new_due_at": later}
    assert refused(dispatcher, request, third, 409) == "extension_limit_reached"
    assert refused(supervisor, request, third, 409) == "extension_limit_reached"


def test_an_extension_past_the_limit_needs_a_supervisor(api: Api) -> None:
    dispatcher, supervisor = api(), api(Role.supervisor)
    request = accepted(dispatcher)
    far = datetime.fromisoformat(request["due_at"]) + bounds.MAX_EXTENSION + timedelta(hours=1)
    longer = {"action": "extend", "reason": "整体翻修", "new_due_at": far.isoformat()}
    assert refused(dispatcher, request, longer, 403) == "extension_needs_supervisor"
    assert act(supervisor, request, longer)["state"] == "extended"


# --------------------------------------------------------------------------- the history


def test_the_history_travels_with_the_request_and_the_change_feed(api: Api, live_server: LiveServer) -> None:
    client = api(name="张敏")
    request = accepted(client)
    request = act(client, request, {"action": "note", "text": "已电话联系"})
    got = Request.model_validate(client.get(f"/v1/requests/{request['id']}").json())
    assert [(s.action, s.by) for s in got.history] == [
        ("intake", "张敏"),
        ("dispatch", "张敏"),
        ("accept", "张敏"),
        ("note", "张敏"),
    ]
    assert got.history[1].units == ["hm01"] and got.history[-1].text == "已电话联系"
    feed = client.get("/v1/changes", params={"since": 0}).json()
    latest = [c["request"] for c in feed["changes"] if c["request"]["id"] == request["id"]][-1]
    assert latest["history"] == got.model_dump(mode="json")["history"]
    audit = live_server.store.audit(request["id"])
    assert all("history" not in event.after for event in audit)  # the audit trail is not doubled


# --------------------------------------------------------------------------- actions an older app recorded


@pytest.fixture
async def world(live_server: LiveServer, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(live_server, tmp_path, count=3) as made:
        yield made


def test_an_older_outbox_record_still_loads() -> None:
    older = {
        "key": "k",
        "request_id": "R-000001",
        "action": {"action": "return", "reason": "不归我们管"},
        "base_version": 3,
        "actor": "王",
        "recorded_at": "2026-11-25T08:00:00Z",
        "order": 1,
    }
    assert PendingAction.model_validate(older).action == Return(reason="不归我们管")
    closing = {**older, "action": {"action": "close", "reason": ""}}
    assert PendingAction.model_validate(closing).action == Close()


async def test_actions_an_older_app_recorded_go_through_or_become_conflicts(world: World) -> None:
    wang = world.dispatcher("王")
    store, engine = await synced_store(wang)
    first, second, third = world.ids
    for request_id in (first, second, third):
        store.record(request_id, Dispatch(lead_unit="hm01"), actor=wang.name)
    store.record(second, Accept(), actor=wang.name)
    assert (await engine.sync_once()).pushed == 4
    # What the older app let through: a return without a code, a resolution without a reply
    # (put straight into the outbox, as the older app's rules allowed them).
    store.outbox.record(first, Return(reason="不归我们管"), base_version=2, actor=wang.name)
    store.outbox.record(second, Resolve(), base_version=3, actor=wang.name)
    summary = await engine.sync_once()
    assert (summary.pushed, summary.errors) == (1, [])
    assert world.server.store.get_request(first).history[-1].code == "other"
    [conflict] = store.conflicts()
    assert (conflict.kind, conflict.code, conflict.action.request_id) == ("refused", "reply_required", second)
    assert world.server.store.get_request(second).state is State.accepted  # nothing applied, nothing lost
