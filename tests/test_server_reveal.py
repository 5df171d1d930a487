"""The audited phone reveal: `POST /v1/requests/{id}/phone-reveals` and `HotlineClient.reveal_phone`.

Dispatchers see a caller's phone masked until they ask; every reveal is an audit event (who,
when, why) that leaves the request's version and the change feed alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from server_helpers import intake, new_request

from api_client.actions import Accept, Dispatch
from api_client.client import HotlineClient
from api_client.errors import InvalidRequest, NotFound, Unauthorized
from api_client.models import AuditEvent, NewRequest, Role
from central_api.server import LiveServer

MakeToken = Callable[..., str]
Api = Callable[..., httpx.Client]

#: A roof leak in c01 reported by an elderly man living alone.
ELDER = NewRequest.model_validate(
    new_request(caller={"name": "王大爷", "phone": "13800001234"}, vulnerable=True)
)


@pytest.fixture
async def clerk(live_server: LiveServer, make_token: MakeToken) -> AsyncIterator[HotlineClient]:
    """The call-taker who records requests."""
    async with HotlineClient(live_server.url, make_token(Role.dispatcher, "接线员")) as api:
        yield api


@pytest.fixture
async def dispatcher(live_server: LiveServer, make_token: MakeToken) -> AsyncIterator[HotlineClient]:
    async with HotlineClient(live_server.url, make_token(Role.dispatcher, "张敏")) as api:
        yield api


async def test_reveal_answers_the_phone_and_audits_who_and_when(
    clerk: HotlineClient, dispatcher: HotlineClient
) -> None:
    r = await clerk.intake(ELDER)
    head = await clerk.health()

    shown = await dispatcher.reveal_phone(r.id)

    assert (shown.request_id, shown.phone, shown.name) == (r.id, "13800001234", "王大爷")
    assert shown.revealed_by == "张敏"
    trail = await clerk.audit(r.id)
    assert [e.action for e in trail] == ["intake", "reveal_phone"]
    event = trail[-1]
    assert (event.actor, event.at, event.request_id) == ("张敏", shown.revealed_at, r.id)
    assert (event.before, event.after, event.detail) == ({}, {}, {})
    assert event.seq == r.change_seq  # the change the revealed request stood at
    # Nothing about the request changed, and nobody is told to pull.
    assert await clerk.get_request(r.id) == r
    assert await clerk.health() == head
    assert (await clerk.changes(since=r.change_seq)).changes == []


async def test_reason_is_kept_and_each_reveal_is_its_own_event(
    clerk: HotlineClient, dispatcher: HotlineClient
) -> None:
    r = await clerk.intake(ELDER)
    first = await dispatcher.reveal_phone(r.id, reason="  回访需要联系市民 ")
    second = await dispatcher.reveal_phone(r.id)
    third = await clerk.reveal_phone(r.id, reason="核实地址")

    assert first.audit_id < second.audit_id < third.audit_id
    reveals = [e for e in await clerk.audit(r.id) if e.action == "reveal_phone"]
    assert [(e.actor, e.detail) for e in reveals] == [
        ("张敏", {"reason": "回访需要联系市民"}),
        ("张敏", {}),
        ("接线员", {"reason": "核实地址"}),
    ]
    assert [e.at for e in reveals] == [first.revealed_at, second.revealed_at, third.revealed_at]
    assert (await clerk.get_request(r.id)).version == 1


async def test_a_reveal_does_not_make_a_pending_action_stale(
    clerk: HotlineClient, dispatcher: HotlineClient
) -> None:
    r = await clerk.intake(ELDER)
    r = await clerk.act(r.id, Dispatch(lead_unit="pm01"), version=r.version)
    await dispatcher.reveal_phone(r.id)
    # The clerk acts on the version read before the reveal: no 412.
    accepted = await clerk.act(r.id, Accept(), version=r.version)
    assert accepted.version == r.version + 1
    assert [e.action for e in await clerk.audit(r.id)] == ["intake", "dispatch", "reveal_phone", "accept"]


async def test_unknown_request_and_bad_reason(dispatcher: HotlineClient, live_server: LiveServer) -> None:
    with pytest.raises(NotFound):
        await dispatcher.reveal_phone("R-999999")
    r = await dispatcher.intake(ELDER)
    with pytest.raises(InvalidRequest):
        await dispatcher.reveal_phone(r.id, reason="为" * 501)
    assert [e.action for e in await dispatcher.audit(r.id)] == ["intake"]


@pytest.mark.parametrize("role", [Role.dispatcher, Role.supervisor, Role.admin])
def test_every_role_may_reveal(api: Api, role: Role) -> None:
    req = intake(api())
    client = api(role, name=f"{role.value}-who-reveals")
    response = client.post(f"/v1/requests/{req['id']}/phone-reveals")  # no body: no reason
    assert response.status_code == 200, response.text
    assert response.json()["phone"] == "13800000000"
    trail = [AuditEvent.model_validate(e) for e in client.get(f"/v1/requests/{req['id']}/audit").json()]
    assert (trail[-1].action, trail[-1].actor) == ("reveal_phone", f"{role.value}-who-reveals")


def test_http_refusals(api: Api, live_server: LiveServer) -> None:
    client = api()
    req = intake(client)
    path = f"/v1/requests/{req['id']}/phone-reveals"
    assert client.post("/v1/requests/R-999999/phone-reveals").status_code == 404
    r = client.post(path, json={"reason": "ok", "extra": 1})
    assert r.status_code == 422 and r.json()["detail"]
    r = client.post(path, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    with httpx.Client(base_url=live_server.url, timeout=10) as anonymous:
        r = anonymous.post(path)
        assert r.status_code == 401 and "13800000000" not in r.text
    assert [e["action"] for e in client.get(f"/v1/requests/{req['id']}/audit").json()] == ["intake"]


def test_open311_api_key_cannot_reveal(live_server: LiveServer, make_token: MakeToken) -> None:
    """An Open311 client holds a token only as `api_key`; the reveal takes a bearer token only."""
    key = make_token(Role.dispatcher, "open311-app")
    request_id = live_server.store.create_request(
        NewRequest.model_validate(new_request()), actor="clerk", idempotency_key=None
    ).request.id
    with httpx.Client(base_url=live_server.url, timeout=10) as o311:
        path = f"/v1/requests/{request_id}/phone-reveals"
        assert o311.post(path, params={"api_key": key}).status_code == 401
        assert o311.post(path, data={"api_key": key}).status_code == 401
        shown = o311.get(f"/open311/v2/requests/{request_id}.json", params={"api_key": key})
        assert shown.status_code == 200 and "13800000000" not in shown.text
    assert [e.action for e in live_server.store.audit(request_id)] == ["intake"]


async def test_no_token_via_the_client(live_server: LiveServer, clerk: HotlineClient) -> None:
    r = await clerk.intake(ELDER)
    async with HotlineClient(live_server.url, None) as anonymous:
        with pytest.raises(Unauthorized):
            await anonymous.reveal_phone(r.id)
