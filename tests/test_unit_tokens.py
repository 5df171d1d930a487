"""Units' own tokens: made bound to a unit (CLI and API), signing for and resolving as the unit,
refused what a unit may not do, fed only the unit's changes (the one that takes a request away
included) by the feed and the stream, revoked like any token; and the chases and direct answers
the numbers count."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from conftest import bearer
from pg_support import Db
from server_helpers import SSEReader, act, intake
from sqlalchemy import delete, select, update
from test_cli import run
from test_sync_support import fast_client
from unit_support import CO, OTHER, UNIT, clients, dispatch

from api_client.actions import AnswerDirectly
from api_client.models import CHANGE_LINES, Role
from central_api.deps import REVOCATION_SECONDS
from central_api.migrations.versions import v0005_unit_tokens
from central_api.rates import stats_from_requests
from central_api.server import LiveServer
from central_api.sql import tables as t
from central_api.sql.engine import Database, database_url
from central_api.sql_store import SqlStore
from central_api.store import InvalidInput, RequestFilter
from local_cache.pull import check_page

pytestmark = pytest.mark.stores("sqlite", "postgres")


def wait_for(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        time.sleep(0.05)


def test_the_cli_binds_a_token_to_a_known_unit(tmp_db: Db) -> None:
    made = run("token", "create", "德胜里社区居委会", "--role", "unit", "--unit", UNIT, "--db", str(tmp_db))
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert len(token) > 20 and token not in run("token", "list", "--db", str(tmp_db)).stdout
    for args, says in (
        (["--role", "unit"], "give --unit ID"),
        (["--role", "dispatcher", "--unit", UNIT], "--unit is for --role unit only"),
        (["--role", "unit", "--unit", "cc99"], "no unit 'cc99' in the directory; its units are: "),
    ):
        refused = run("token", "create", "another", *args, "--db", str(tmp_db))
        assert refused.returncode == 1 and says in refused.stderr and "Traceback" not in refused.stderr
    header, row = run("token", "list", "--db", str(tmp_db)).stdout.splitlines()
    assert header.split()[:3] == ["NAME", "ROLE", "UNIT"] and row.split()[:3] == [
        "德胜里社区居委会",
        "unit",
        UNIT,
    ]
    store = SqlStore.open(tmp_db)
    try:
        holder = store.identify(token)
        assert holder is not None and (holder.role, holder.unit) == (Role.unit, UNIT)
        with pytest.raises(InvalidInput) as refused_in_store:
            store.create_token("x", Role.supervisor, unit=UNIT)
        assert refused_in_store.value.code == "token_unit_for_role"
    finally:
        store.close()


def test_the_api_makes_and_lists_unit_tokens(live_server: LiveServer) -> None:
    admin = live_server.create_token("root", Role.admin)
    with httpx.Client(base_url=live_server.url, headers=bearer(admin), timeout=10) as api:
        made = api.post("/v1/tokens", json={"name": "新康社区居委会", "role": "unit", "unit": OTHER})
        assert made.status_code == 201, made.text
        assert made.json()["unit"] == OTHER and made.json()["role"] == "unit"
        for body, code in (
            ({"name": "a", "role": "unit"}, "token_unit_missing"),
            ({"name": "b", "role": "unit", "unit": "cc99"}, "unknown_unit"),
            ({"name": "c", "role": "dispatcher", "unit": OTHER}, "token_unit_for_role"),
        ):
            refused = api.post("/v1/tokens", json=body)
            assert refused.status_code == 422 and refused.json()["code"] == code, refused.text
        listed = {info["name"]: info["unit"] for info in api.get("/v1/tokens").json()}
        assert listed == {"root": None, "新康社区居委会": OTHER}
        me = httpx.get(f"{live_server.url}/v1/me", headers=bearer(made.json()["token"]), timeout=30)
        assert me.json() == {"name": "新康社区居委会", "role": "unit", "unit": OTHER}


def test_a_unit_signs_for_and_resolves_its_own_request(live_server: LiveServer) -> None:
    with clients(live_server) as c:
        request = dispatch(c.dispatcher, UNIT, [CO])
        accepted = act(c.unit, request, {"action": "accept"})
        assert accepted["state"] == "accepted"
        noted = act(c.unit, accepted, {"action": "note", "text": "已派维修工上门"})
        resolved = act(c.unit, noted, {"action": "resolve", "summary": "已修复屋顶防水层"})
        assert resolved["state"] == "resolved"
        audit = c.unit.get(f"/v1/requests/{request['id']}/audit").json()
        assert [(e["action"], e["actor"]) for e in audit][-3:] == [
            ("accept", "德胜里社区居委会"),
            ("note", "德胜里社区居委会"),
            ("resolve", "德胜里社区居委会"),
        ]
        rates = c.dispatcher.get("/v1/stats", params={"unit": UNIT}).json()["rates"]
        assert (rates["dispatched"], rates["responded_in_time"]) == (1, 1)  # its own signing counts
        reveal = c.unit.post(f"/v1/requests/{request['id']}/phone-reveals", json={"reason": "上门前联系市民"})
        assert reveal.status_code == 200 and reveal.json()["phone"] == "13800000000"
        assert c.unit.get(f"/v1/requests/{request['id']}/audit").json()[-1]["action"] == "reveal_phone"


def test_a_unit_is_refused_what_only_dispatchers_do(live_server: LiveServer) -> None:
    with clients(live_server) as c:
        mine, others = dispatch(c.dispatcher, UNIT), dispatch(c.dispatcher, OTHER)
        for action in (
            {"action": "dispatch", "lead_unit": OTHER},
            {"action": "merge", "parent_id": others["id"]},
            {"action": "callback", "reached": True, "solved": True, "satisfaction": "satisfied"},
        ):
            refused = act(c.unit, mine, action, expect=403)
            assert refused["code"] == "unit_not_allowed" and refused["params"] == {"action": action["action"]}
        for action in ({"action": "accept"}, {"action": "note", "text": "x"}):
            assert act(c.unit, others, action, expect=403)["code"] == "not_your_unit"
        assert c.unit.get(f"/v1/requests/{others['id']}").status_code == 403
        assert c.unit.post("/v1/requests", json={}).status_code == 403
        assert c.unit.get("/v1/routing-rules").json()["code"] == "forbidden"
        assert c.dispatcher.get(f"/v1/requests/{mine['id']}").json()["version"] == mine["version"]


def test_the_feed_brings_a_unit_its_changes_and_the_one_that_takes_a_request_away(
    live_server: LiveServer,
) -> None:
    with clients(live_server) as c:
        kept = dispatch(c.dispatcher, UNIT)
        moved = dispatch(c.dispatcher, UNIT)
        elsewhere = dispatch(c.dispatcher, OTHER)
        moved = act(c.dispatcher, moved, {"action": "dispatch", "lead_unit": OTHER})  # taken away
        act(c.dispatcher, moved, {"action": "note", "text": "新康社区已接手"})  # no longer the unit's
        act(c.dispatcher, elsewhere, {"action": "note", "text": "x"})
        page = c.unit.get("/v1/changes", params={"since": 0}).json()
        seen = [(ch["request"]["id"], ch["action"], ch["request"]["lead_unit"]) for ch in page["changes"]]
        assert seen == [
            (kept["id"], "dispatch", UNIT),
            (moved["id"], "dispatch", UNIT),
            (moved["id"], "dispatch", OTHER),
        ]
        assert page["next_since"] == moved["change_seq"] and page["has_more"] is False
        assert page["head"] == c.dispatcher.get("/v1/changes", params={"since": 0}).json()["head"]
        first = c.unit.get("/v1/changes", params={"since": 0, "limit": 1}).json()
        assert len(first["changes"]) == 1 and first["has_more"] is True
        rest = c.unit.get("/v1/changes", params={"since": page["next_since"]}).json()
        assert rest["changes"] == [] and rest["next_since"] == page["next_since"] and not rest["has_more"]
        lines = c.unit.get("/v1/changes", params={"since": 0}, headers={"Accept": CHANGE_LINES})
        head = orjson.loads(lines.content.split(b"\n")[0])
        assert [seq for seq, _action in head["changes"]] == [ch["seq"] for ch in page["changes"]]
        assert head["has_more"] is False


async def test_the_client_makes_a_unit_token(live_server: LiveServer) -> None:
    admin = live_server.create_token("root", Role.admin)
    async with fast_client(live_server.url, admin) as client:
        made = await client.create_token("裕中西里社区居委会", Role.unit, unit="cc04")
    assert (made.role, made.unit) == (Role.unit, "cc04")
    async with fast_client(live_server.url, made.token) as client:
        me = await client.me()
    assert (me.name, me.role, me.unit) == ("裕中西里社区居委会", Role.unit, "cc04")


async def test_the_client_pulls_a_units_pages_as_the_cache_checks_them(live_server: LiveServer) -> None:
    with clients(live_server) as c:
        mine = [dispatch(c.dispatcher, UNIT)["id"] for _ in range(3)]
        dispatch(c.dispatcher, OTHER)
        async with fast_client(live_server.url, c.unit_token) as client:
            since, seen = 0, []
            while True:
                pulled = await client.pull_page(since, 2)
                check_page(pulled, since)
                seen += [stamp.id for stamp in pulled.stamps]
                since = pulled.next_since
                if not pulled.has_more:
                    break
            last = await client.changes(since, 2)
            check_page(last, since)
        assert seen == mine and last.changes == []


def test_the_stream_carries_only_the_units_changes(live_server: LiveServer) -> None:
    with clients(live_server) as c:
        dispatch(c.dispatcher, OTHER)
        reader = SSEReader(live_server.url, c.unit_token)  # from the unit's newest change: none yet
        try:
            mine = dispatch(c.dispatcher, UNIT)
            first = carried(reader.next_event(5))
            assert first["since"] == 0 and ids(first) == [(mine["id"], "dispatch")]
            dispatch(c.dispatcher, OTHER)
            returned = act(c.unit, mine, {"action": "return", "code": "not_our_duty", "reason": "属物业职责"})
            second = carried(reader.next_event(5))
            assert second["since"] == first["next_since"]  # the unit's cursor: its own last change
            assert (
                ids(second) == [(mine["id"], "return")]
                and second["changes"][0]["request"]["lead_unit"] is None
            )
            act(c.dispatcher, returned, {"action": "dispatch", "lead_unit": OTHER})  # no longer the unit's
            again = dispatch(c.dispatcher, UNIT, [CO])
            third = carried(reader.next_event(5))
            assert third["since"] == second["next_since"] and ids(third) == [(again["id"], "dispatch")]
        finally:
            reader.close()
        resumed = SSEReader(live_server.url, c.unit_token, last_event_id=first["next_since"])
        try:
            page = carried(resumed.next_event(5))
            assert ids(page) == [(mine["id"], "return"), (again["id"], "dispatch")]
        finally:
            resumed.close()


def carried(event: dict[str, str] | None) -> dict[str, Any]:
    assert event is not None and event["event"] == "changes", event
    page: dict[str, Any] = orjson.loads(event["data"])
    assert page["next_since"] == int(event["id"]) == page["changes"][-1]["seq"] and not page["has_more"]
    return page


def ids(page: dict[str, Any]) -> list[tuple[str, str]]:
    return [(ch["request"]["id"], ch["action"]) for ch in page["changes"]]


def test_a_revoked_unit_token_is_refused_and_its_stream_ends(live_server: LiveServer) -> None:
    admin = live_server.create_token("root", Role.admin)
    with clients(live_server) as c:
        reader = SSEReader(live_server.url, c.unit_token)
        try:
            revoked = httpx.delete(
                f"{live_server.url}/v1/tokens/德胜里社区居委会", headers=bearer(admin), timeout=30
            )
            assert revoked.status_code == 200 and revoked.json()["unit"] == UNIT
            unit = c.unit
            wait_for(lambda: unit.get("/v1/me").status_code == 401, REVOCATION_SECONDS, "refused")
            assert reader.finished.wait(REVOCATION_SECONDS), "the unit's stream did not end"
        finally:
            reader.close()


def test_chases_and_direct_answers_in_the_numbers(live_server: LiveServer) -> None:
    with clients(live_server) as c:
        chased = dispatch(c.dispatcher, UNIT)
        chased = act(c.dispatcher, chased, {"action": "chase", "text": "市民再次来电催办"})
        chased = act(c.dispatcher, chased, {"action": "chase"})
        assert chased["chases"] == 2 and chased["history"][-1]["action"] == "chase"
        accepted = act(c.unit, chased, {"action": "accept"})
        assert accepted["chases"] == 2 and c.unit.get(f"/v1/requests/{chased['id']}").json()["chases"] == 2
        dispatch(c.dispatcher, OTHER)
        enquiry = intake(c.dispatcher, type="enquiry", description="低保怎么申请？")
        store = live_server.store
        answered = store.apply(
            enquiry["id"], AnswerDirectly(entry_id="KB-1"), actor="张敏", if_match=1, idempotency_key=None
        ).request
        assert (answered.state.value, answered.answered_with) == ("closed", "KB-1")
        overall = c.dispatcher.get("/v1/stats").json()
        assert (overall["chases"], overall["answered_directly"], overall["total"]) == (2, 1, 3)
        assert overall["rates"]["dispatched"] == 2  # the direct answer is in no rate
        by_unit = {s["unit"]: s for s in c.dispatcher.get("/v1/stats/units").json()}
        assert (by_unit[UNIT]["chases"], by_unit[OTHER]["chases"], by_unit[UNIT]["answered_directly"]) == (
            2,
            0,
            0,
        )
        assert c.unit.get("/v1/stats/units").json() == [c.unit.get("/v1/stats").json()]
        everything = store.list_requests(RequestFilter())
        same = stats_from_requests(everything, now=store.clock())
        assert (same.chases, same.answered_directly) == (2, 1)
        assert [r.id for r in store.list_requests(RequestFilter(unit=UNIT))] == [chased["id"]]


def test_the_upgrade_fills_the_units_of_the_feed_as_the_writes_do(
    live_server: LiveServer, tmp_db: Db
) -> None:
    with clients(live_server) as c:
        first = dispatch(c.dispatcher, UNIT, [CO])
        act(c.unit, first, {"action": "return", "code": "other", "reason": "x"})
        second = dispatch(c.dispatcher, OTHER, [UNIT])
        act(c.dispatcher, second, {"action": "dispatch", "lead_unit": CO})
        act(c.dispatcher, dispatch(c.dispatcher, OTHER, [UNIT, CO]), {"action": "chase"})
    db = Database(database_url(tmp_db), clock=live_server.store.clock)
    r = t.requests.c
    columns = select(r.id, r.co_units, r.chases, r.answered_with).order_by(r.id)
    try:
        with db.write() as conn:
            written = sorted(conn.execute(select(t.change_units)).all())
            conn.execute(delete(t.change_units))
            v0005_unit_tokens._fill_change_units(conn, t.change_units)
            assert sorted(conn.execute(select(t.change_units)).all()) == written
            kept = conn.execute(columns).all()
            conn.execute(update(t.requests).values(co_units="", chases=0))
            v0005_unit_tokens._fill_requests(conn)
            assert conn.execute(columns).all() == kept
        assert len(written) == 9 + 3 + 3  # 2 + 2 (return) + 2 + 3 (lead, co, new lead), then 3 + 3
        assert [row[1:3] for row in kept] == [("", 0), ("", 0), (f"|{UNIT}|{CO}|", 1)]
    finally:
        db.close()
