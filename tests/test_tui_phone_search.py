"""The queue search finds a caller's requests by phone, typed the way dispatchers type numbers,
through the server's audited lookup; the app against a real server, driven with Pilot."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
from server_helpers import new_request
from textual.pilot import Pilot

from api_client.models import NewRequest
from central_api.server import LiveServer
from tui.core.i18n import Strings
from tui.core.phone_query import phone_lookup
from tui.ui.app import HotlineApp
from tui.ui.screens.queues import QueuesScreen
from tui.ui.widgets.queue_bar import FilterLine

PHONE = "13912345678"


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("5678", "5678"),
        ("345678", "345678"),
        ("139 1234 5678", PHONE),
        ("139-1234-5678", PHONE),
        ("139—1234—5678", PHONE),
        ("（139）1234．5678", PHONE),
        ("(010) 6123 4567", "01061234567"),
        ("１３９ １２３４ ５６７８", PHONE),
        ("+86 139 1234 5678", PHONE),
        ("0086-139-1234-5678", PHONE),
        ("+86 10 6123 4567", "01061234567"),
        ("电话：139 1234 5678", PHONE),
        ("手机 13912345678", PHONE),
        ("尾号5678", "5678"),
        ("Tel: 5678", "5678"),
        ("139****5678", "5678"),  # as the app shows it: the hidden digits are not known
        ("****5678", "5678"),
    ],
)
def test_a_phone_as_dispatchers_type_it_is_a_lookup(typed: str, digits: str) -> None:
    assert phone_lookup(typed) == digits


@pytest.mark.parametrize(
    "typed", ["", "123", "R-000286", "漏雨", "12:30", "5678 漏雨", "12345678901234567890123", "139**", "3.5"]
)
def test_anything_else_is_a_search_only(typed: str) -> None:
    assert phone_lookup(typed) is None


def ending_in(server: LiveServer, last4: str) -> set[str]:
    """The requests whose caller's phone ends with `last4`, straight from the database."""
    with sqlite3.connect(server.store.url.removeprefix("sqlite:///")) as db:
        rows = db.execute("SELECT request_id FROM callers WHERE phone_last4 = ?", (last4,))
        return {row[0] for row in rows}


async def look_up(pilot: Pilot[object], screen: QueuesScreen, typed: str) -> None:
    """Type `typed` in the search, press enter, and wait for the lookup's view."""
    screen.lookup = None
    await pilot.press("slash", *typed, "enter")
    await until(pilot, lambda: screen.lookup is not None, what=f"the lookup of {typed!r}")
    await pilot.pause()


async def test_numbers_typed_with_spaces_dashes_a_label_or_masked_find_the_callers_requests(
    tmp_path: Path,
) -> None:
    server = seeded_server(tmp_path, 20)
    try:
        theirs = {
            server.store.create_request(
                NewRequest.model_validate(new_request(caller={"name": "赵建国", "phone": PHONE})),
                actor="话务-1",
                idempotency_key=None,
            ).request.id
            for _ in range(2)
        }
        same_end = ending_in(server, "5678")
        assert theirs <= same_end
        async with running_app(open_session(server, tmp_path), lang="zh") as (app, pilot):
            await until(pilot, lambda: synced(app, 22), what="the first sync")
            screen = app.screen
            assert isinstance(screen, QueuesScreen)
            for typed, expected, shown in (
                ("139 1234 5678", theirs, "139****5678"),
                ("+86 139-1234-5678", theirs, "139****5678"),
                ("电话：139 1234 5678", theirs, "139****5678"),
                ("139****5678", same_end, "****5678"),  # copied from the detail: its last digits
            ):
                await look_up(pilot, screen, typed)
                assert {row.id for row in screen.table.rows} == expected, typed
                line = str(screen.query_one(FilterLine).render())
                assert app.strings("queues.phone", phone=shown) in line, typed
                await pilot.press("escape")
                assert screen.lookup is None
            events = server.store.caller_lookups(10)
            assert [event.query for event in reversed(events)] == [
                "139****5678",
                "139****5678",
                "139****5678",
                "****5678",
            ]
    finally:
        server.stop()


async def test_four_digits_keep_the_request_they_number_beside_the_callers(tmp_path: Path) -> None:
    """`0003` is both the end of R-000003's number and, maybe, of a phone: the view shows both."""
    server = seeded_server(tmp_path, 20)
    try:
        callers = ending_in(server, "0003")
        async with running_app(open_session(server, tmp_path), lang="zh") as (app, pilot):
            await until(pilot, lambda: synced(app, 20), what="the first sync")
            screen = app.screen
            assert isinstance(screen, QueuesScreen)
            await pilot.press("6", "slash", *"0003")  # every request
            await pilot.pause()
            assert "R-000003" in {row.id for row in screen.table.rows}  # found here as it is typed
            await pilot.press("enter")
            await until(pilot, lambda: screen.lookup is not None, what="the lookup")
            await pilot.pause()
            shown = {row.id for row in screen.table.rows}
            assert shown == callers | {"R-000003"}
            if "R-000003" not in callers:
                said = app.strings("queues.phone_or_text", phone="****0003", text="0003")
                assert said in str(screen.query_one(FilterLine).render())
    finally:
        server.stop()


async def test_typing_a_phone_says_that_enter_looks_the_caller_up(tmp_path: Path) -> None:
    with cached_session(seeded_central(tmp_path, 10), tmp_path / "cache") as session:
        app = HotlineApp(session, strings=Strings("zh"))
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.loaded, what="the cache")
            screen = app.screen
            assert isinstance(screen, QueuesScreen)
            await pilot.press("slash", *"139 1234 5678")
            await pilot.pause()
            assert screen.table.row_count == 0  # the cache holds no phone to search
            hint = app.strings("queues.phone_hint", phone="139****5678")
            assert hint[:20] in screen.table.render_line(1).text
            await pilot.press("escape")
            await pilot.press("slash", *"漏雨")
            await pilot.pause()
            assert hint[:20] not in screen.table.render_line(1).text
