"""Callers' personal data is masked at the source: the server keeps the full phone and name apart
and sends them only in the answer of the audited reveal; finding a caller by phone is an audited
lookup on the server; a database an older version wrote is cleaned at its upgrade.

Against a real server on 127.0.0.1, the installed `hotline sync` and the app (Pilot)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from app_support import (
    cached_session,
    open_session,
    running_app,
    seeded_central,
    seeded_server,
    synced,
    until,
)
from old_database import OLD_NOW, old_database
from pydantic import TypeAdapter
from server_helpers import new_request
from test_sync_cli import environment, hotline
from textual.message import Message
from textual.notifications import Notification, Notify

from api_client.client import HotlineClient
from api_client.domain.personal_data import (
    caller_key,
    lookup_digits,
    mask_lookup,
    mask_name,
    mask_phone,
    phone_digits,
)
from api_client.errors import Forbidden, InvalidRequest
from api_client.models import CHANGE_LINES, CallerLookupEvent, NewRequest, Role
from central_api import migrations
from central_api.migrations.versions.v0003_callers_apart import MASK_ACTION
from central_api.server import LiveServer
from central_api.sql import callers as caller_table
from central_api.sql_store import SqlStore
from tui.core.i18n import Strings
from tui.ui.app import HotlineApp
from tui.ui.screens.queues import QueuesScreen
from tui.ui.widgets.queue_bar import FilterLine

Api = Callable[..., httpx.Client]
MakeToken = Callable[..., str]

PHONE, NAME = "13912345678", "赵建国"
#: What must never be seen but in a reveal: the number's digits past its first three, the name.
SECRETS = ("12345678", PHONE, "建国", NAME)
OTHER_PHONE = "13700001111"  # another caller: a different number, different last digits
LOOKUP_EVENTS = TypeAdapter(list[CallerLookupEvent])


def sqlite_path(store: SqlStore) -> str:
    return store.url.removeprefix("sqlite:///")


def callers_rows(store: SqlStore) -> dict[str, tuple[str, str]]:
    """The `callers` table straight from the file: request id → (phone, name)."""
    with sqlite3.connect(sqlite_path(store)) as db:
        return {row[0]: (row[1], row[2]) for row in db.execute("SELECT request_id, phone, name FROM callers")}


def assert_no_secret(text: str | bytes, where: str) -> None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    escaped = NAME.encode("unicode_escape").decode()  # "\u8d75..." as JSON may escape it
    for secret in (*SECRETS, escaped[6:].lower(), escaped[6:].upper()):
        assert secret not in text, f"{secret!r} is in {where}"


# ----- the rules ---------------------------------------------------------------------------------


def test_masks_keys_and_lookups() -> None:
    assert mask_name("王先生") == "王**" and mask_name("Li Wei") == "L*****" and mask_name("  ") == ""
    assert mask_name(mask_name("王先生")) == "王**" and mask_phone(mask_phone(PHONE)) == mask_phone(PHONE)
    assert mask_phone(PHONE) == "139****5678"
    secret, other = b"s" * 32, b"t" * 32
    key = caller_key(PHONE, secret)
    assert key is not None and len(key) == 16 and "5678" not in key
    assert caller_key("139-1234-5678", secret) == caller_key("１３９１２３４５６７８", secret) == key
    assert caller_key(PHONE, other) != key and caller_key("110", secret) is None
    assert phone_digits("１２３４５") == "12345"
    assert lookup_digits(" 5678 ") == "5678" and lookup_digits("+86 139-1234-5678") == "8613912345678"
    assert lookup_digits("５６７８") == "5678"
    for not_a_phone in ("567", "1234567890123456789012", "R-005678", "5678a", "56.78", ""):
        assert lookup_digits(not_a_phone) is None, not_a_phone
    assert mask_lookup("345678") == "****5678" and mask_lookup(PHONE) == "139****5678"


# ----- a request's caller in every answer --------------------------------------------------------


@pytest.fixture
def taken(api: Api) -> tuple[httpx.Client, dict[str, Any]]:
    """A dispatcher's client, and a request taken in with a known phone and name."""
    clerk = api(Role.dispatcher, "接线员")
    body = new_request(caller={"name": NAME, "phone": PHONE})
    response = clerk.post("/v1/requests", json=body, headers={"Idempotency-Key": "intake-1"})
    assert response.status_code == 201, response.text
    assert_no_secret(response.text, "the intake answer")
    request: dict[str, Any] = response.json()
    assert request["caller"] == {"name": "赵**", "phone": "139****5678", "key": request["caller"]["key"]}
    replay = clerk.post("/v1/requests", json=body, headers={"Idempotency-Key": "intake-1"})
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert_no_secret(replay.text, "an idempotent replay")
    return clerk, request


def test_no_answer_a_dispatcher_can_get_holds_the_phone_or_the_name(
    taken: tuple[httpx.Client, dict[str, Any]], api: Api, make_token: MakeToken, live_server: LiveServer
) -> None:
    _clerk, request = taken
    client = api(Role.dispatcher, "张敏")
    rid = request["id"]
    dispatched = client.post(
        f"/v1/requests/{rid}/actions",
        json={"action": "dispatch", "lead_unit": "pm01"},
        headers={"If-Match": '"1"'},
    )
    assert dispatched.status_code == 200, dispatched.text
    stale = client.post(f"/v1/requests/{rid}/actions", json={"action": "accept"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["current"]["caller"]["phone"] == "139****5678"
    key = make_token(Role.dispatcher, "open311-app")  # in the query, as Open311 clients send it
    open311 = httpx.Client(base_url=live_server.url, timeout=10)
    answers = {
        "GET /v1/requests/{id}": client.get(f"/v1/requests/{rid}"),
        "the audit trail": client.get(f"/v1/requests/{rid}/audit"),
        "GET /v1/changes": client.get("/v1/changes", params={"since": 0}),
        "GET /v1/changes as lines": client.get(
            "/v1/changes", params={"since": 0}, headers={"Accept": CHANGE_LINES}
        ),
        "a 412": stale,
        "Open311 requests.json": open311.get("/open311/v2/requests.json", params={"api_key": key}),
        "Open311 one request": open311.get(f"/open311/v2/requests/{rid}.json", params={"api_key": key}),
        "GET /v1/stats": client.get("/v1/stats"),
        "GET /v1/stats/units": client.get("/v1/stats/units"),
    }
    open311.close()
    for where, answer in answers.items():
        assert answer.status_code in (200, 412), (where, answer.status_code, answer.text)
        assert_no_secret(answer.text, where)
    assert answers["GET /v1/changes as lines"].headers["content-type"].startswith(CHANGE_LINES)
    assert rid in answers["Open311 requests.json"].text and rid in answers["GET /v1/changes"].text
    intake_event = answers["the audit trail"].json()[0]
    assert intake_event["after"]["caller"]["phone"] == "139****5678"


def test_a_client_cannot_set_the_caller_key(api: Api) -> None:
    body = new_request(caller={"name": NAME, "phone": PHONE, "key": "0123456789abcdef"})
    response = api().post("/v1/requests", json=body)
    assert response.status_code == 422 and "0123456789abcdef" not in response.text


async def test_the_reveal_answers_phone_and_name_and_records_who_not_what(
    taken: tuple[httpx.Client, dict[str, Any]], live_server: LiveServer, make_token: MakeToken
) -> None:
    _clerk, request = taken
    async with HotlineClient(live_server.url, make_token(Role.dispatcher, "张敏")) as dispatcher:
        shown = await dispatcher.reveal_phone(request["id"], reason="回访")
        assert (shown.phone, shown.name, shown.revealed_by) == (PHONE, NAME, "张敏")
        trail = await dispatcher.audit(request["id"])
    assert [(e.action, e.actor, e.detail) for e in trail] == [
        ("intake", "接线员", {}),
        ("reveal_phone", "张敏", {"reason": "回访"}),
    ]
    assert_no_secret(orjson.dumps([e.model_dump(mode="json") for e in trail]), "the audit trail")


# ----- the lookup -------------------------------------------------------------------------------


async def test_a_lookup_finds_the_callers_requests_only_and_is_audited(
    live_server: LiveServer, make_token: MakeToken
) -> None:
    store = live_server.store
    theirs = [
        store.create_request(
            NewRequest.model_validate(new_request(caller={"name": NAME, "phone": phone})),
            actor="话务-1",
            idempotency_key=None,
        ).request.id
        for phone in (PHONE, "139-1234-5678", PHONE)
    ]
    store.create_request(
        NewRequest.model_validate(new_request(caller={"name": "钱女士", "phone": OTHER_PHONE})),
        actor="话务-1",
        idempotency_key=None,
    )
    newest_first = list(reversed(theirs))
    async with (
        HotlineClient(live_server.url, make_token(Role.dispatcher, "张敏")) as dispatcher,
        HotlineClient(live_server.url, make_token(Role.supervisor, "组长")) as supervisor,
    ):
        by_number = await dispatcher.lookup_caller(PHONE, reason="第三次来电")
        by_last4 = await dispatcher.lookup_caller("5678")
        by_last6 = await dispatcher.lookup_caller("345 678")
        assert [r.id for r in by_number.requests] == newest_first  # by its digits, however typed
        assert [r.id for r in by_last4.requests] == newest_first == [r.id for r in by_last6.requests]
        assert (await dispatcher.lookup_caller("2345678")).requests == []  # 7 digits: a whole number
        assert not by_last4.truncated
        assert {r.caller.key for r in by_last4.requests} == {by_number.requests[0].caller.key}
        for found in (by_number, by_last4, by_last6):
            assert_no_secret(found.model_dump_json(), "a lookup's answer")
        assert (await dispatcher.lookup_caller("0000")).requests == []
        with pytest.raises(InvalidRequest) as refused:
            await dispatcher.lookup_caller("abc5678")
        assert refused.value.code == "lookup_not_a_phone"
        with pytest.raises(Forbidden):
            await dispatcher.call("GET", "/v1/callers/lookups", LOOKUP_EVENTS)
        events = await supervisor.call("GET", "/v1/callers/lookups", LOOKUP_EVENTS)  # for supervisors
    assert [(e.actor, e.query, e.matched, e.reason) for e in reversed(events)] == [
        ("张敏", "139****5678", 3, "第三次来电"),
        ("张敏", "****5678", 3, ""),
        ("张敏", "****5678", 3, ""),
        ("张敏", "*****78", 0, ""),
        ("张敏", "****0000", 0, ""),
    ]
    with sqlite3.connect(sqlite_path(store)) as db:
        stored = [row[0] for row in db.execute("SELECT detail FROM audit WHERE action = 'lookup_phone'")]
    assert len(stored) == 5 and all("12345678" not in d and "345678" not in d for d in stored)


def test_lookups_take_the_number_in_the_body_and_are_rate_limited(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caller_table, "LOOKUP_RATE", 3)
    client = api(Role.dispatcher, "张敏")
    assert client.get("/v1/callers/lookup", params={"phone": PHONE}).status_code == 405
    for _ in range(3):
        assert client.post("/v1/callers/lookup", json={"phone": "5678"}).status_code == 200
    refused = client.post("/v1/callers/lookup", json={"phone": "5678"})
    assert refused.status_code == 429 and refused.json()["code"] == "lookup_rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    assert api(Role.dispatcher, "李").post("/v1/callers/lookup", json={"phone": "5678"}).status_code == 200
    for body in ({"phone": "56"}, {"phone": ""}, {"phone": 5678}, {"phone": "5678", "extra": 1}):
        response = client.post("/v1/callers/lookup", json=body)
        assert response.status_code == 422, (body, response.text)


def test_a_lookup_answers_the_newest_requests_and_says_when_there_are_more(
    live_server: LiveServer, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caller_table, "LOOKUP_LIMIT", 2)
    ids = [
        live_server.store.create_request(
            NewRequest.model_validate(new_request(caller={"name": NAME, "phone": PHONE})),
            actor="话务-1",
            idempotency_key=None,
        ).request.id
        for _ in range(3)
    ]
    found = api().post("/v1/callers/lookup", json={"phone": PHONE}).json()
    assert [r["id"] for r in found["requests"]] == ids[:0:-1] and found["truncated"] is True
    [event] = live_server.store.caller_lookups(5)
    assert (event.matched, event.truncated) == (2, True)


# ----- the local cache ---------------------------------------------------------------------------


def test_hotline_sync_leaves_no_phone_or_name_in_the_cache(
    taken: tuple[httpx.Client, dict[str, Any]], live_server: LiveServer, tmp_path: Path
) -> None:
    env = environment(tmp_path, live_server.url, live_server.create_token("张敏"), "张敏")
    synced_run = hotline("sync", env=env)
    assert synced_run.returncode == 0, synced_run.stderr
    files = [p for p in (tmp_path / "cache-root").rglob("*") if p.is_file()]
    assert files and sum(p.stat().st_size for p in files) > 0
    for path in files:
        assert_no_secret(path.read_bytes(), str(path))


# ----- a database an older version wrote -------------------------------------------------------


@pytest.fixture
def upgraded(tmp_path: Path) -> Iterator[tuple[SqlStore, int]]:
    """A schema-1 database with three requests (two by one caller), opened (so upgraded); and
    its head before the upgrade."""
    path = old_database(
        tmp_path / "old.db", [(NAME, PHONE), ("钱女士", OTHER_PHONE), (NAME, "139 1234 5678")]
    )
    with sqlite3.connect(path) as db:
        raw = "".join(
            str(row) for row in db.execute("SELECT data FROM requests UNION ALL SELECT snapshot FROM changes")
        )
        assert PHONE in raw and NAME in raw  # the old version kept them in full
        head = db.execute("SELECT max(seq) FROM changes").fetchone()[0]
    store = SqlStore.open(path)
    try:
        yield store, head
    finally:
        store.close()


def test_an_upgrade_moves_the_phones_out_of_every_stored_json(upgraded: tuple[SqlStore, int]) -> None:
    store, _old_head = upgraded
    with sqlite3.connect(sqlite_path(store)) as db:
        revision = db.execute(f"SELECT version_num FROM {migrations.VERSION_TABLE}").fetchone()[0]
        stored = [
            *db.execute("SELECT data FROM requests"),
            *db.execute("SELECT snapshot FROM changes"),
            *db.execute('SELECT "before" || "after" || detail FROM audit'),
        ]
    assert revision == migrations.head()
    for (text,) in stored:
        assert_no_secret(text, "the upgraded database's JSON")
    assert callers_rows(store) == {
        "R-000001": (PHONE, NAME),
        "R-000002": (OTHER_PHONE, "钱女士"),
        "R-000003": ("139 1234 5678", NAME),
    }
    first, second, third = (store.get_request(f"R-00000{n}") for n in (1, 2, 3))
    assert (first.caller.name, first.caller.phone) == ("赵**", "139****5678")
    assert first.caller.key is not None and first.caller.key == third.caller.key != second.caller.key
    assert (first.version, first.lead_unit) == (2, "cc01")  # its history is kept, its version too
    assert store.reveal_phone("R-000003", actor="张敏").phone == "139 1234 5678"
    assert [r.id for r in store.lookup_caller("5678", actor="张敏").requests] == ["R-000003", "R-000001"]


def test_an_upgrade_sends_every_cache_the_masked_copies(upgraded: tuple[SqlStore, int]) -> None:
    """A cache that pulled the full phones before the upgrade pulls one more change per request,
    which replaces its copy (same version: nobody's pending action becomes stale)."""
    store, old_head = upgraded
    changes, head = store.changes(old_head, 100)
    assert head == old_head + 3
    assert [(c.action, c.request.id) for c in changes] == [(MASK_ACTION, f"R-00000{n}") for n in (1, 2, 3)]
    assert [c.request.version for c in changes] == [2, 1, 1]
    assert all(c.request.change_seq == c.seq and c.request.caller.phone.startswith("1") for c in changes)
    older, _head = store.changes(0, old_head)
    assert [c.request.caller.name for c in older] == ["赵**", "赵**", "钱**", "赵**"]
    trail = store.audit("R-000001")
    assert [e.action for e in trail] == ["intake", "dispatch", MASK_ACTION]
    assert trail[-1].at > OLD_NOW


def test_an_upgraded_database_opens_again_unchanged(upgraded: tuple[SqlStore, int]) -> None:
    store, _old_head = upgraded
    head = store.head()
    store.close()
    again = SqlStore.open(sqlite_path(store))
    try:
        assert again.head() == head and len(callers_rows(again)) == 3
    finally:
        again.close()


# ----- the app ---------------------------------------------------------------------------------


async def test_the_apps_search_by_the_last_four_digits_looks_the_caller_up(tmp_path: Path) -> None:
    server = seeded_server(tmp_path, 20)
    try:
        theirs = [
            server.store.create_request(
                NewRequest.model_validate(new_request(caller={"name": NAME, "phone": PHONE})),
                actor="话务-1",
                idempotency_key=None,
            ).request.id
            for _ in range(2)
        ]
        with sqlite3.connect(sqlite_path(server.store)) as db:  # any seeded caller with the same end
            expected = {
                row[0] for row in db.execute("SELECT request_id FROM callers WHERE phone_last4 = '5678'")
            }
        assert set(theirs) <= expected
        async with running_app(open_session(server, tmp_path)) as (app, pilot):
            await until(pilot, lambda: synced(app, 22), what="the first sync")
            screen = app.screen
            assert isinstance(screen, QueuesScreen)
            await pilot.press("slash", *"5678", "enter")
            await until(pilot, lambda: screen.lookup is not None, what="the lookup's answer")
            await pilot.pause()
            assert {row.id for row in screen.table.rows} == expected
            assert app.strings("queues.phone", phone="****5678") in str(screen.query_one(FilterLine).render())
            [event] = server.store.caller_lookups(10)
            assert (event.actor, event.query, event.matched) == ("张敏", "****5678", len(expected))
            await pilot.press("escape")
            assert screen.lookup is None and len(screen.table.rows) > len(expected)
    finally:
        server.stop()


@pytest.mark.parametrize(("lang", "typed"), [("en", "138 5678"), ("zh", "139-1234-5678")])
async def test_offline_the_app_says_a_phone_lookup_needs_the_server(
    tmp_path: Path, lang: str, typed: str
) -> None:
    notices: list[Notification] = []

    def keep(message: Message) -> None:
        if isinstance(message, Notify):
            notices.append(message.notification)

    with cached_session(seeded_central(tmp_path, 10), tmp_path / "cache") as session:
        app = HotlineApp(session, strings=Strings("zh" if lang == "zh" else "en"))
        async with app.run_test(size=(100, 30), message_hook=keep) as pilot:
            await until(pilot, lambda: app.loaded, what="the cache")
            screen = app.screen
            assert isinstance(screen, QueuesScreen)
            await pilot.press("slash", *typed, "enter")
            said = app.strings("app.lookup_offline")
            await until(pilot, lambda: any(n.message == said for n in notices), what="the notice")
            assert screen.lookup is None


def test_mask_email_keeps_the_first_character_and_the_domain() -> None:
    from api_client.domain.personal_data import mask_email

    assert mask_email("zhang.wei@example.com") == "z********@example.com"
    assert mask_email("a@b.cn") == "a@b.cn"
    assert mask_email("no-at-sign") == "**********"
    assert mask_email("x\x1b[2J@evil.example") == "x****@evil.example"
