"""Every refusal of the server carries a stable `code` and its `params` beside the English `detail`;
the client keeps them on its exception, and the app says them in the dispatcher's language."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from server_helpers import act, intake, new_request

from api_client.actions import Accept, Dispatch, Extend, LogCallback
from api_client.client import HotlineClient
from api_client.domain.lifecycle import TransitionRefused, apply_action
from api_client.domain.lifecycle import intake as intake_request
from api_client.errors import Conflict, InvalidRequest, NotFound
from api_client.models import NewRequest, Request, Role, Tier
from central_api.server import LiveServer
from tui.core.error_words import ERRORS, describe
from tui.core.i18n import MESSAGES, Strings

Api = Callable[..., httpx.Client]
MakeToken = Callable[..., str]


def refusal(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The body of a refusal, checked for its status, its code and the shape every one has."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert isinstance(body["params"], dict), body
    return body


def test_a_refused_transition_is_409_with_the_state_and_the_action(api: Api) -> None:
    client = api()
    request = intake(client)
    r = client.post(
        f"/v1/requests/{request['id']}/actions", json={"action": "accept"}, headers={"If-Match": '"1"'}
    )
    body = refusal(r, 409, "transition_refused")
    assert body["params"] == {
        "request_id": request["id"],
        "action": "accept",
        "state": "new",
        "allowed": ["dispatched", "reopened"],
    }


def test_a_stale_version_is_412_with_the_current_request(api: Api) -> None:
    client = api()
    request = intake(client)
    act(client, request, {"action": "note", "text": "called back"})
    r = client.post(
        f"/v1/requests/{request['id']}/actions",
        json={"action": "note", "text": "again"},
        headers={"If-Match": '"1"'},
    )
    body = refusal(r, 412, "version_mismatch")
    assert body["params"] == {"request_id": request["id"], "version": 2, "if_match": 1}
    assert Request.model_validate(body["current"]).version == 2


def test_not_found_unauthorized_forbidden_and_a_missing_if_match(api: Api, live_server: LiveServer) -> None:
    client = api()
    body = refusal(client.get("/v1/requests/R-424242"), 404, "request_not_found")
    assert body["params"] == {"request_id": "R-424242"}
    refusal(client.get("/v1/nowhere"), 404, "not_found")

    refusal(httpx.get(f"{live_server.url}/v1/me", timeout=30), 401, "token_missing")
    stranger = httpx.get(f"{live_server.url}/v1/me", headers={"Authorization": "Bearer nobody"}, timeout=30)
    refusal(stranger, 401, "unauthorized")

    r = client.patch("/v1/units/pm01", json={"on_duty": False})
    body = refusal(r, 403, "forbidden")
    assert body["params"] == {"required_role": "supervisor", "role": "dispatcher"}

    request = intake(client)
    refusal(
        client.post(f"/v1/requests/{request['id']}/actions", json={"action": "note", "text": "x"}),
        428,
        "precondition_required",
    )


def test_field_errors_are_422_each_with_its_code(api: Api) -> None:
    client = api()
    r = client.post("/v1/requests", json={**new_request(), "location": {"lat": 100}, "colour": "red"})
    body = refusal(r, 422, "invalid_field")
    problems = {e["field"]: e for e in body["errors"]}
    assert problems["location.lat"]["code"] == "less_than_equal"
    assert problems["location.lat"]["params"] == {"le": 90.0}
    assert problems["colour"]["code"] == "extra_forbidden"
    assert body["params"] == {"field": body["errors"][0]["field"]}

    request = intake(client)
    dispatch = {"action": "dispatch", "lead_unit": "pm01", "co_units": ["pm01"]}
    r = client.post(f"/v1/requests/{request['id']}/actions", json=dispatch, headers={"If-Match": '"1"'})
    body = refusal(r, 422, "invalid_field")
    [problem] = body["errors"]
    assert (problem["code"], problem["params"]) == ("lead_unit_is_co_unit", {"unit": "pm01"})
    assert problem["message"] == "the lead unit cannot also be a co-unit"

    r = client.post(
        f"/v1/requests/{request['id']}/actions", json={"action": "fly"}, headers={"If-Match": '"1"'}
    )
    [problem] = refusal(r, 422, "invalid_field")["errors"]
    assert problem["code"] == "union_tag_invalid" and problem["params"]["tag"] == "fly"


def test_store_refusals_name_what_is_unknown(api: Api) -> None:
    client = api()
    body = refusal(client.post("/v1/requests", json=new_request(category="ufo")), 422, "unknown_category")
    assert body["params"] == {"category": "ufo"}
    request = intake(client)
    act(client, request, {"action": "note", "text": "x"})
    body = refusal(
        client.post(
            f"/v1/requests/{request['id']}/actions",
            json={"action": "dispatch", "lead_unit": "ghost"},
            headers={"If-Match": '"2"'},
        ),
        422,
        "unknown_unit",
    )
    assert body["params"] == {"units": ["ghost"]}


def test_malformed_json_and_a_body_that_is_not_an_object_are_400(api: Api) -> None:
    client = api()
    headers = {"Content-Type": "application/json"}
    body = refusal(
        client.post("/v1/requests", content=b'{"channel": ', headers=headers), 400, "malformed_json"
    )
    assert body["params"] == {"position": 12}
    refusal(client.post("/v1/requests", content=b"[1]", headers=headers), 400, "body_not_object")
    refusal(client.post("/v1/requests", content=b"", headers=headers), 400, "body_required")


def test_a_body_over_the_limit_is_413_with_the_limit(api: Api) -> None:
    big = json.dumps(new_request(description="x" * (1 << 20))).encode()
    r = api().post("/v1/requests", content=big, headers={"Content-Type": "application/json"})
    body = refusal(r, 413, "payload_too_large")
    assert body["params"] == {"limit": 1 << 20}


def test_open311_keeps_its_own_list(live_server: LiveServer) -> None:
    r = httpx.get(f"{live_server.url}/open311/v2/requests.json", timeout=30)
    assert r.status_code == 403 and r.json() == [{"code": 403, "description": "api_key was not provided"}]


async def test_the_client_exception_carries_the_code_and_params(
    live_server: LiveServer, make_token: MakeToken
) -> None:
    async with HotlineClient(live_server.url, make_token(Role.dispatcher)) as client:
        request = await client.intake(NewRequest.model_validate(new_request()))
        with pytest.raises(InvalidRequest) as refused:
            await client.act(request.id, Accept(), version=request.version)
        assert refused.value.code == "transition_refused" and refused.value.status == 409
        assert refused.value.params["state"] == "new" and refused.value.params["action"] == "accept"

        await client.act(request.id, Dispatch(lead_unit="pm01"), version=1)
        with pytest.raises(Conflict) as stale:
            await client.act(request.id, Accept(), version=1)
        assert stale.value.code == "version_mismatch" and stale.value.params["version"] == 2

        with pytest.raises(NotFound) as missing:
            await client.get_request("R-424242")
        assert (missing.value.code, missing.value.params) == ("request_not_found", {"request_id": "R-424242"})


async def test_a_refused_transition_in_chinese(live_server: LiveServer, make_token: MakeToken) -> None:
    async with HotlineClient(live_server.url, make_token(Role.dispatcher)) as client:
        request = await client.intake(NewRequest.model_validate(new_request()))
        with pytest.raises(InvalidRequest) as refused:
            await client.act(request.id, Accept(), version=request.version)
    error = refused.value
    words = describe(error.code, error.params, Strings("zh"), error.detail)
    assert words == f"不能签收诉求 {request.id}：它现在是「新诉求」（可签收的状态：已派单、重办）"
    english = describe(error.code, error.params, Strings("en"), error.detail)
    assert english == f"Cannot accept request {request.id}: it is new (allowed from: dispatched, reopened)"


def test_a_local_refusal_has_a_code_and_words() -> None:
    """`LocalStore.record` refuses with the same state machine: the app says it by its code."""
    now = datetime(2026, 3, 1, 9, tzinfo=UTC)
    new = NewRequest.model_validate(new_request())
    request = intake_request(new, request_id="R-000007", tier=Tier.h24, now=now)
    request = apply_action(request, Dispatch(lead_unit="pm01"), actor="张敏", now=now)
    request = apply_action(request, Accept(), actor="pm01", now=now)
    with pytest.raises(TransitionRefused) as refused:
        apply_action(request, Extend(reason="parts", new_due_at=now), actor="pm01", now=now)
    assert refused.value.code == "due_not_later"
    assert refused.value.params["due_at"] == request.due_at.isoformat()
    words = describe(refused.value.code, refused.value.params, Strings("zh"), str(refused.value))
    assert words.startswith("新期限 ") and "必须晚于当前期限" in words


def test_a_validator_error_has_its_code_as_type_and_words() -> None:
    with pytest.raises(ValidationError) as caught:
        LogCallback(reached=True)
    [error] = caught.value.errors()
    assert error["type"] == "callback_answers_missing"
    assert describe(error["type"], error.get("ctx") or {}, Strings("zh"), error["msg"]).startswith(
        "联系上市民时"
    )


def test_an_unknown_code_or_missing_params_fall_back_to_the_server_sentence() -> None:
    strings = Strings("zh")
    assert describe("a_code_from_a_newer_server", {}, strings, "The server's own words.") == (
        "The server's own words."
    )
    assert describe("transition_refused", {"request_id": "R-1"}, strings, "cannot accept") == "cannot accept"
    assert describe(None, {}, strings, "no route\nto host") == "no route to host"


def test_every_error_message_is_served_by_the_strings() -> None:
    assert set(ERRORS) <= set(MESSAGES)
    assert all(key.startswith("error.") for key in ERRORS)
