"""The foundation's acceptance, driven through the typed client against a real server.

Lifecycle with audit and rates; refused input leaves the state alone; two dispatchers racing;
idempotent replays; paging 10,000 changes while writes go on; live events across a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import orjson
import pytest
from pg_support import Db
from pydantic import TypeAdapter

from api_client.actions import (
    Accept,
    AddNote,
    Dispatch,
    Extend,
    LogCallback,
    Resolve,
    Return,
)
from api_client.client import HotlineClient
from api_client.errors import Conflict, InvalidRequest
from api_client.events import ChangeStream
from api_client.models import (
    Caller,
    Channel,
    Location,
    NewRequest,
    Request,
    RequestType,
    Role,
    Satisfaction,
    State,
)
from central_api.server import LiveServer
from central_api.sql_store import SqlStore

ROOF_LEAK = NewRequest(
    channel=Channel.phone,
    type=RequestType.help,
    category="roof_leak",
    description="家里顶楼漏雨，满屋都是水，家里就我一个老人",
    location=Location(street="新外大街", community="c01", address="新外大街28号院6号楼"),
    caller=Caller(name="王大爷", phone="13800001234"),
    vulnerable=True,
)

MakeToken = Callable[..., str]


@pytest.fixture
async def client(live_server: LiveServer, make_token: MakeToken) -> AsyncIterator[HotlineClient]:
    async with HotlineClient(live_server.url, make_token(Role.dispatcher, "张敏")) as api:
        yield api


async def test_full_lifecycle_audit_and_rates(client: HotlineClient) -> None:
    before = (await client.stats()).rates
    r = await client.intake(ROOF_LEAK)
    assert (r.state, r.version, r.tier.value) == (State.new, 1, "24h")
    r = await client.act(r.id, Dispatch(lead_unit="hm01", co_units=["pm01", "cc01"]), version=r.version)
    assert (r.state, r.lead_unit, r.co_units) == (State.dispatched, "hm01", ["pm01", "cc01"])
    r = await client.act(r.id, Accept(), version=r.version)
    r = await client.act(r.id, Resolve(summary="屋顶防水已修复"), version=r.version)
    r = await client.act(
        r.id,
        LogCallback(reached=True, solved=True, satisfaction=Satisfaction.satisfied),
        version=r.version,
    )
    assert r.state is State.closed and r.version == 5
    assert await client.get_request(r.id) == r

    trail = await client.audit(r.id)
    assert [e.action for e in trail] == ["intake", "dispatch", "accept", "resolve", "callback"]
    assert all(e.actor == "张敏" for e in trail)
    assert [e.at for e in trail] == sorted(e.at for e in trail)
    assert trail[1].after["state"] == "dispatched" and trail[1].before["state"] == "new"
    assert trail[-1].after["state"] == "closed"

    after = (await client.stats()).rates
    assert after.dispatched == before.dispatched + 1
    assert after.responded_in_time == before.responded_in_time + 1  # accepted at once
    assert after.valid_callbacks == before.valid_callbacks + 1
    assert after.solved == before.solved + 1 and after.satisfied == before.satisfied + 1
    assert after.response == after.responded_in_time / after.response_counted
    assert after.resolution == after.solved / after.valid_callbacks
    assert after.satisfaction == after.satisfied / after.valid_callbacks


async def test_an_unsatisfied_callback_lowers_the_rates(client: HotlineClient) -> None:
    r = await client.intake(ROOF_LEAK)
    for action in (Dispatch(lead_unit="hm01"), Accept(), Resolve(summary="已修补")):
        r = await client.act(r.id, action, version=r.version)
    r = await client.act(
        r.id,
        LogCallback(reached=True, solved=False, satisfaction=Satisfaction.not_satisfied),
        version=r.version,
    )
    assert r.state is State.reopened  # an unsolved, unsatisfied callback sends it back
    rates = (await client.stats()).rates
    assert (rates.valid_callbacks, rates.solved, rates.satisfied) == (1, 0, 0)
    assert rates.resolution == 0.0 and rates.satisfaction == 0.0


async def test_refused_input_is_4xx_and_changes_nothing(client: HotlineClient) -> None:
    r = await client.intake(ROOF_LEAK)
    with pytest.raises(InvalidRequest, match=r"cannot accept .* it is new"):
        await client.act(r.id, Accept(), version=r.version)
    with pytest.raises(InvalidRequest, match="unknown unit: nowhere"):
        await client.act(r.id, Dispatch(lead_unit="hm01", co_units=["nowhere"]), version=r.version)
    r = await client.act(r.id, Dispatch(lead_unit="hm01"), version=r.version)
    # The client validates its own bodies too, so send the reasonless ones raw.
    for body in (
        {"action": "return"},
        {"action": "return", "reason": "  "},
        {"action": "extend", "new_due_at": (r.due_at + timedelta(days=1)).isoformat()},
        {"action": "extend", "reason": "需协调"},
    ):
        with pytest.raises(InvalidRequest) as refused:
            await client.call(
                "POST",
                f"/v1/requests/{r.id}/actions",
                TypeAdapter(Request),
                body=orjson.dumps(body),
                headers={"If-Match": f'"{r.version}"'},
            )
        assert refused.value.status == 422
        assert "reason" in refused.value.message or "new_due_at" in refused.value.message
    r = await client.act(r.id, Accept(), version=r.version)
    with pytest.raises(InvalidRequest, match="must be later"):
        await client.act(r.id, Extend(reason="x", new_due_at=r.due_at), version=r.version)
    current = await client.get_request(r.id)
    assert current.state is State.accepted
    audit = [e.action for e in await client.audit(r.id)]
    assert audit == ["intake", "dispatch", "accept"]  # nothing refused left a trace


async def test_two_dispatchers_race_one_wins(live_server: LiveServer, make_token: MakeToken) -> None:
    async with (
        HotlineClient(live_server.url, make_token(Role.dispatcher, "甲")) as a,
        HotlineClient(live_server.url, make_token(Role.dispatcher, "乙")) as b,
    ):
        r = await a.intake(ROOF_LEAK)
        results = await asyncio.gather(
            a.act(r.id, Dispatch(lead_unit="hm01"), version=r.version),
            b.act(r.id, Dispatch(lead_unit="pm01"), version=r.version),
            return_exceptions=True,
        )
        winners = [x for x in results if isinstance(x, Request)]
        losers = [x for x in results if isinstance(x, Conflict)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert losers[0].current == winners[0]  # the loser holds the winner's version
        assert losers[0].current.version == 2
        assert [e.action for e in await a.audit(r.id)] == ["intake", "dispatch"]


async def test_replaying_a_key_applies_once(client: HotlineClient) -> None:
    first = await client.intake(ROOF_LEAK, idempotency_key="intake-1")
    again = await client.intake(ROOF_LEAK, idempotency_key="intake-1")
    assert again == first
    dispatched = await client.act(first.id, Dispatch(lead_unit="hm01"), version=1, idempotency_key="k-1")
    replayed = await client.act(first.id, Dispatch(lead_unit="hm01"), version=1, idempotency_key="k-1")
    assert replayed == dispatched and replayed.version == 2
    note = AddNote(text="已联系")
    await client.act(first.id, note, version=2, idempotency_key="k-2")
    await client.act(first.id, note, version=2, idempotency_key="k-2")
    assert [e.action for e in await client.audit(first.id)] == ["intake", "dispatch", "note"]
    with pytest.raises(InvalidRequest, match="different body"):
        await client.act(first.id, Return(reason="x"), version=3, idempotency_key="k-2")


@pytest.mark.timeout(360)
async def test_paging_10000_changes_while_writes_go_on(
    live_server: LiveServer, client: HotlineClient
) -> None:
    store = live_server.store
    ids = [made.id for made in store.create_requests([ROOF_LEAK] * 5000, actor="seed")]
    with store.batch():  # 10,000 changes up front, quickly
        for request_id in ids:
            store.apply(request_id, AddNote(text="初次联系"), actor="seed", if_match=1, idempotency_key=None)
    assert store.head() == 10_000

    async def keep_writing() -> int:
        written = 0
        async with HotlineClient(live_server.url, store.create_token("w", Role.dispatcher)) as w:
            for i in range(60):
                r = await w.intake(ROOF_LEAK)
                await w.act(r.id, AddNote(text=f"补充 {i}"), version=1)
                written += 2
                await asyncio.sleep(0)
        return written

    writer = asyncio.create_task(keep_writing())
    seen: list[int] = []
    latest: dict[str, int] = {}
    since = 0
    while True:
        finished = writer.done()  # before the page: a write may land while it is being read
        page = await client.changes(since, limit=500)
        seen.extend(c.seq for c in page.changes)
        for change in page.changes:
            assert change.request.change_seq == change.seq
            latest[change.request.id] = change.request.version
        since = page.next_since
        if not page.has_more and finished:
            break
        await asyncio.sleep(0)  # let the writer interleave
    written = await writer
    assert seen == list(range(1, 10_000 + written + 1))  # in order, no gap, no duplicate
    assert len(latest) == 5000 + written // 2
    assert all(version == 2 for version in latest.values())


async def wait_until(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def test_events_arrive_and_survive_a_restart(tmp_db: Db) -> None:
    server = LiveServer(tmp_db).start()
    try:
        token = server.store.create_token("listener", Role.dispatcher)
        async with (
            HotlineClient(server.url, token) as api,
            HotlineClient(server.url, token) as writer,
        ):
            stream = ChangeStream(api, wait_initial=0.1, wait_max=0.5)
            notices = stream.notices()
            waiting = asyncio.create_task(anext(notices))
            await wait_until(lambda: stream.connected)
            first = await writer.intake(ROOF_LEAK)
            notice = await asyncio.wait_for(waiting, timeout=15)
            assert notice.seq == first.change_seq
            assert stream.last_event_id == first.change_seq

            server.stop()
            pending = asyncio.create_task(anext(notices))
            await wait_until(lambda: not stream.connected)  # the stream saw the drop
            # A change made while the server is down (by another process on the same database):
            # only a stream that resumes from its last event id learns of it.
            offline = SqlStore.open(tmp_db)
            second = offline.create_request(ROOF_LEAK, actor="other", idempotency_key=None).request
            offline.close()
            server.start()  # same port, same database
            notice = await asyncio.wait_for(pending, timeout=10)
            assert notice.seq == second.change_seq == first.change_seq + 1
            assert stream.reconnects >= 1
            await notices.aclose()
    finally:
        server.stop()
