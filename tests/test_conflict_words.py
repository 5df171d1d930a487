"""Conflicts and local refusals keep the error's code and params, so the app, the bulk screen and
`hotline status` say them in the dispatcher's language: a real server, a real cache, the sync
engine, and the outbox reloaded from disk (also one written before conflicts had codes)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from test_sync_support import World, open_world, server_act, synced_store

from api_client.actions import Accept, Dispatch, LogCallback, Merge, Resolve
from api_client.domain.lifecycle import TransitionRefused
from api_client.models import Satisfaction, State
from central_api.server import LiveServer
from local_cache.local_store import OUTBOX_FILE
from local_cache.outbox import ConflictRecord
from tui.cli.sync import status_lines
from tui.core.error_words import describe
from tui.core.i18n import Strings
from tui.ui.screens.conflicts import describe_conflict

ZH, EN = Strings("zh"), Strings("en")


def english_words(text: str) -> list[str]:
    """Runs of two or more Latin letters (a request id such as R-000001 has one)."""
    return re.findall(r"[A-Za-z]{2,}", text)


def words(record: ConflictRecord, strings: Strings) -> str:
    return describe(record.code, record.params, strings, record.message)


@pytest.fixture
async def world(live_server: LiveServer, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(live_server, tmp_path) as made:
        yield made


async def test_accepting_a_request_someone_else_closed_is_a_conflict_said_in_chinese(world: World) -> None:
    zhang = world.dispatcher("张敏")
    request_id = world.ids[0]
    server_act(world.server, request_id, Dispatch(lead_unit="cc01"))
    store, engine = await synced_store(zhang)
    # Someone else accepts, resolves and closes it meanwhile; 张敏 still sees it dispatched.
    server_act(world.server, request_id, Accept())
    server_act(world.server, request_id, Resolve(summary="fixed"))
    closed = server_act(
        world.server,
        request_id,
        LogCallback(reached=True, solved=True, satisfaction=Satisfaction.satisfied),
    )
    assert closed.state is State.closed
    store.record(request_id, Accept(), actor=zhang.name)

    summary = await engine.sync_once()

    assert summary.conflicts == 1
    store.close()
    store = zhang.open()  # the conflict as it is on disk
    [record] = store.conflicts()
    assert record.kind == "stale"
    assert record.code == "version_mismatch"
    assert record.params == {"request_id": request_id, "version": closed.version, "if_match": 2}
    chinese = words(record, ZH)
    assert chinese == f"诉求 {request_id} 已被他人修改（现为第 {closed.version} 版，您依据的是第 2 版）"
    assert english_words(chinese) == []
    assert words(record, EN).startswith(f"Request {request_id} was changed meanwhile")
    # the conflicts screen and `hotline status` say it the same way
    assert chinese in describe_conflict(record, ZH).plain
    assert any(chinese in line for line in status_lines(store, ZH))

    # Retried on the server's version, accept no longer applies: refused here, by its code.
    with pytest.raises(TransitionRefused) as refused:
        store.retry_conflict(record.id)
    error = refused.value
    assert error.code == "transition_refused" and error.params["state"] == "closed"
    said = describe(error.code, error.params, ZH, str(error))
    assert said.startswith(f"不能签收诉求 {request_id}：它现在是「") and english_words(said) == []
    assert [c.id for c in store.conflicts()] == [record.id]  # kept for the dispatcher
    store.close()


async def test_a_refused_merge_keeps_the_servers_code_and_params(world: World) -> None:
    zhang = world.dispatcher("张敏")
    store, engine = await synced_store(zhang)
    child, parent, grandparent = world.ids[:3]
    server_act(world.server, parent, Merge(parent_id=grandparent))  # 张敏's cache does not know yet
    store.record(child, Merge(parent_id=parent), actor=zhang.name)

    result = await engine.push()

    assert result.refused == 1
    store.close()
    store = zhang.open()
    [record] = store.conflicts()
    assert record.kind == "refused"
    assert (record.code, record.params) == (
        "merge_parent_merged",
        {"parent_id": parent, "merged_into": grandparent},
    )
    chinese = words(record, ZH)
    assert chinese == f"不能并入诉求 {parent}：它已并入 {grandparent}"
    assert english_words(chinese) == []
    store.close()


async def test_a_bulk_write_says_why_each_item_was_refused(world: World) -> None:
    zhang = world.dispatcher("张敏")
    store, _engine = await synced_store(zhang)
    first, second = world.ids[:2]
    recorded, refused = store.record_batch(
        [(first, Dispatch(lead_unit="cc01")), (second, Accept()), ("R-999999", Accept())], actor=zhang.name
    )
    assert [a.request_id for a in recorded] == [first]
    why = dict(refused)
    assert set(why) == {1, 2}
    assert why[1].code == "transition_refused" and why[1].params["state"] == "new"
    assert (why[2].code, why[2].params) == ("request_not_cached", {"request_id": "R-999999"})
    for item in why.values():
        chinese = describe(item.code, item.params, ZH, item.message)
        assert english_words(chinese) == [] and chinese != item.message
    assert describe(why[2].code, why[2].params, ZH, why[2].message) == (
        "诉求 R-999999 不在本地缓存中：请同步后再试"
    )
    assert describe(why[2].code, why[2].params, EN, why[2].message) == (
        "Request R-999999 is not in the local cache: sync and try again"
    )
    store.close()


async def test_an_outbox_written_before_codes_still_loads(world: World) -> None:
    zhang = world.dispatcher("张敏")
    store, engine = await synced_store(zhang)
    child, parent, grandparent = world.ids[:3]
    server_act(world.server, parent, Merge(parent_id=grandparent))
    store.record(child, Merge(parent_id=parent), actor=zhang.name)
    await engine.push()
    store.close()
    # the same file as an older hotline wrote it: conflicts without code and params
    path = zhang.cache / OUTBOX_FILE
    data = orjson.loads(path.read_bytes())
    for doc in data["conflicts"].values():
        del doc["code"], doc["params"]
    path.write_bytes(orjson.dumps(data))

    store = zhang.open()
    assert store.messages == []  # nothing set aside
    [record] = store.conflicts()
    assert (record.code, record.params) == (None, {})
    assert words(record, ZH) == record.message and "merged" in record.message  # the server's sentence
    store.record(world.ids[3], Dispatch(lead_unit="cc01"), actor=zhang.name)  # and it is written again
    store.close()
    store = zhang.open()
    assert [(c.id, c.code) for c in store.conflicts()] == [(record.id, None)]
    store.close()
