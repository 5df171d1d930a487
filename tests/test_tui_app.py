"""The app end to end against a real central API, driven by keys through Pilot."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from app_support import open_session, running_app, seeded_server, server_request, synced, until
from pg_support import Db, table_rows
from rich.cells import cell_len
from textual.geometry import Region
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget

from api_client.actions import Accept, Dispatch
from api_client.domain.personal_data import mask_name
from api_client.models import Channel, Location, NewRequest, Request, RequestType, Role, State
from central_api.server import LiveServer
from central_api.sql_store import SqlStore
from tui import cli
from tui.core.i18n import Strings
from tui.core.queue.kinds import QueueKind
from tui.core.session import Session
from tui.ui import synced_app
from tui.ui.app import HotlineApp
from tui.ui.screens.detail import DetailScreen
from tui.ui.screens.queues import QueuesScreen

#: The app works the same against either store: these tests also run on PostgreSQL.
on_both_stores = pytest.mark.stores("sqlite", "postgres")


@pytest.fixture
def server(tmp_path: Path, tmp_db: Db) -> Iterator[LiveServer]:
    made = seeded_server(tmp_path, 60, db=tmp_db)
    try:
        yield made
    finally:
        made.stop()


def vulnerable_request(server: LiveServer, description: str) -> Request:
    """A new request from a vulnerable caller, taken in at the centre just now: an urgent one."""
    return server.store.create_request(
        NewRequest(
            channel=Channel.phone,
            type=RequestType.help,
            category="roof_leak",
            description=description,
            location=Location(community="c01", address="德胜里3号楼"),
            vulnerable=True,
        ),
        actor="话务-测试",
        idempotency_key=None,
    ).request


def queues(app: HotlineApp) -> QueuesScreen:
    screen = app.screen
    assert isinstance(screen, QueuesScreen)
    return screen


async def show_request(pilot: Pilot[object], app: HotlineApp, request_id: str) -> None:
    """Put the queue table's cursor on `request_id`: the `all` queue, searched by its id."""
    await pilot.press("6", "slash", *request_id, "enter")
    await until(pilot, lambda: queues(app).current_request_id() == request_id, what=request_id)


def with_directory(app: HotlineApp) -> bool:
    """Synced, and the directory fetched: unit search (typing `cc01` in the dispatch dialog)
    finds units only once the directory has come, which may be after the first sync."""
    return synced(app, 60) and app.session.directory is not None


async def first_new_on_screen(pilot: Pilot[Any], app: HotlineApp) -> str:
    """Once synced with the directory, the request under the cursor of the `new` queue."""
    await until(pilot, lambda: with_directory(app), what="the first sync and the directory")
    screen = queues(app)
    await until(pilot, lambda: screen.current_request_id() is not None, what="the rows on screen")
    request_id = screen.current_request_id()
    assert request_id is not None and app.model.get(request_id).state is State.new  # type: ignore[union-attr]
    return request_id


def first_in(app: HotlineApp, state: State) -> str:
    return next(row.id for row in app.model.rows() if row.state is state)


async def dispatched_elsewhere(pilot: Pilot[object], app: HotlineApp, server: LiveServer) -> str:
    """A new request dispatched by another dispatcher on the server, once the app has it."""
    request_id = first_in(app, State.new)
    version = server_request(server, request_id).version
    server.store.apply(
        request_id, Dispatch(lead_unit="cc01"), actor="李强", if_match=version, idempotency_key=None
    )
    await until(pilot, lambda: app.model.get(request_id).state is State.dispatched)  # type: ignore[union-attr]
    return request_id


async def test_the_queues_show_every_request_with_live_counts(server: LiveServer, tmp_path: Path) -> None:
    async with noting_app(open_session(server, tmp_path)) as (app, pilot, notices):
        await until(pilot, lambda: synced(app, 60), what="the first sync")
        screen = queues(app)
        assert screen.kind is QueueKind.new
        counts = app.model.counts(app.clock())
        await until(pilot, lambda: screen.table.row_count == app.model.counts()[QueueKind.new] > 0)
        assert all(row.state in (State.new, State.returned, State.reopened) for row in screen.table.rows)
        await pilot.press("6")
        assert screen.table.row_count == 60
        await pilot.press("3")
        assert screen.kind is QueueKind.in_progress
        assert screen.table.row_count == counts[QueueKind.in_progress]
        await pilot.press("tab")
        assert screen.kind is QueueKind.callback

        # A request taken in elsewhere appears without moving the cursor off the selected one.
        await pilot.press("6", "j", "j")
        selected = screen.current_request_id()
        new = vulnerable_request(server, "德胜里3号楼顶层漏雨")
        await until(pilot, lambda: new.id in app.model, what="the new request to arrive")
        await until(pilot, lambda: screen.table.row_count == 61)
        assert screen.current_request_id() == selected
        # it is vulnerable and new: it announces itself (the seeded backlog did not)
        announced = [n.message for n in notices if "urgent" in n.message]
        assert len(announced) == 1 and new.id in announced[0]


async def test_an_urgent_request_in_a_rebuilt_model_is_announced(
    server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch of changes too large to apply row by row rebuilds the whole model (a storm's sync,
    or a reload that read a request before its change came): a new urgent request it brings is
    announced as one brought by a small change is, and only once."""
    monkeypatch.setattr(synced_app, "REBUILD_AT", 5)  # the first sync's 61 requests: a rebuild
    new = vulnerable_request(server, "独居老人家中漏雨")
    async with noting_app(open_session(server, tmp_path)) as (app, pilot, notices):
        await until(pilot, lambda: synced(app, 61), what="the first sync")
        await until(pilot, lambda: any(new.id in n.message for n in notices), what="the notice")
        before = app.model
        app.load_rows()  # a reload: the request is no news any more
        await until(pilot, lambda: app.model is not before, what="the reload")
        await pilot.pause(0.3)
        announced = [n.message for n in notices if new.id in n.message]
        assert announced == [app.strings("app.urgent", n=1, id=new.id, description=new.description)]


async def test_search_finds_chinese_substrings_and_escape_clears_it(
    server: LiveServer, tmp_path: Path
) -> None:
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        await until(pilot, lambda: synced(app, 60))
        screen = queues(app)
        word = next(row.address for row in app.model.rows() if len(row.address) >= 4)[:4]
        await pilot.press("6", "slash")
        await pilot.press(*word)
        await until(pilot, lambda: 0 < screen.table.row_count < 60)
        # search looks in the text and in the names (category, community, lead unit): the word
        # may be a community's name, as 北三环中 is of 北三环中路社区
        shown = {row.id for row in screen.table.rows}
        for row in screen.table.rows:
            fields = (row.description, row.address, row.caller, row.category_name, row.community_name)
            assert any(word in field for field in (*fields, row.lead_unit_name)), (word, row)
        assert {row.id for row in app.model.rows() if word in row.address} <= shown
        await pilot.press("enter")  # keeps the search, back to the table
        assert screen.table.has_focus and screen.filter.text == word
        await pilot.press("escape")
        assert screen.filter.text == "" and screen.table.row_count == 60

        # pinyin initials find names: `dsl` is 德胜里 (the community, or a unit named after it)
        # the rows take their names from the directory once it has come and the rows are rebuilt
        await until(pilot, lambda: any("德胜里" in row.community_name for row in app.model.rows()))
        await pilot.press("slash", "d", "s", "l", "enter")
        await until(pilot, lambda: 0 < screen.table.row_count < 60)
        for row in screen.table.rows:
            assert "德胜里" in f"{row.community_name}{row.lead_unit_name}{row.category_name}"


@on_both_stores
async def test_accept_is_recorded_at_once_and_reaches_the_server(server: LiveServer, tmp_path: Path) -> None:
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        await until(pilot, lambda: synced(app, 60))
        request_id = await dispatched_elsewhere(pilot, app, server)
        await show_request(pilot, app, request_id)
        assert app.check_action("transition", ("accept",)) is True
        assert app.check_action("transition", ("callback",)) is False  # not from `dispatched`
        await pilot.press("a")
        await until(pilot, lambda: server_request(server, request_id).state is State.accepted)
        await until(pilot, lambda: app.model.get(request_id).state is State.accepted)  # type: ignore[union-attr]
        await until(pilot, lambda: not app.model.get(request_id).unsent)  # type: ignore[union-attr]
        events = [event.action for event in server.store.audit(request_id)]
        assert events.count("accept") == 1


async def test_offline_actions_show_as_unsent_and_are_sent_when_the_server_returns(
    server: LiveServer, tmp_path: Path
) -> None:
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        await until(pilot, lambda: synced(app, 60))
        request_id = await dispatched_elsewhere(pilot, app, server)
        server.stop()
        await until(pilot, lambda: app.last_status is not None and not app.last_status.online, what="offline")
        await show_request(pilot, app, request_id)
        await pilot.press("a")
        await until(pilot, lambda: app.model.get(request_id).unsent)  # type: ignore[union-attr]
        row = app.model.get(request_id)
        assert row is not None and row.state is State.accepted  # the local view already shows it
        assert app.last_status is not None and app.last_status.pending == 1
        await pilot.press("5")  # the queue of unsent actions and conflicts
        assert request_id in [r.id for r in queues(app).table.rows]

        server.restart()
        await until(pilot, lambda: synced(app), timeout=30, what="the server to come back")
        assert server_request(server, request_id).state is State.accepted
        await until(pilot, lambda: not app.model.get(request_id).unsent)  # type: ignore[union-attr]
        await until(pilot, lambda: queues(app).table.row_count == 0, what="the unsent queue to empty")


async def test_a_refused_action_is_said_and_nothing_is_recorded(server: LiveServer, tmp_path: Path) -> None:
    session = open_session(server, tmp_path)
    async with noting_app(session) as (app, pilot, notices):
        await until(pilot, lambda: synced(app, 60))
        request_id = first_in(app, State.closed)
        app.record(request_id, Accept())  # the key is hidden for a closed request; the rules still hold
        await until(pilot, lambda: any("accept" in n.message for n in notices), what="a refusal")
        assert session.store.counts()[1] == 0


def full_caller(server: LiveServer, request_id: str) -> tuple[str, str]:
    """The (phone, name) the server keeps apart from the request, read from its database."""
    rows = dict((r[0], r[1:]) for r in table_rows(server.store.url, "callers", "request_id", "phone", "name"))
    return rows[request_id][0], rows[request_id][1]


@on_both_stores
async def test_the_detail_masks_the_phone_until_revealed_and_the_server_audits_it(
    server: LiveServer, tmp_path: Path
) -> None:
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        await until(pilot, lambda: synced(app, 60))
        request_id = next(r.id for r in app.model.rows() if all(full_caller(server, r.id)))
        phone, name = full_caller(server, request_id)
        await show_request(pilot, app, request_id)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.request is not None)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        shown = detail.query_one("#detail").render()
        assert phone not in str(shown) and phone[-4:] in str(shown) and "****" in str(shown)
        assert name not in str(shown) and f"{name[0]}{'*' * (len(name) - 1)}" in str(shown)
        await until(pilot, lambda: audit_shown(app, detail), what="the audit timeline")
        await pilot.press("p")
        await until(pilot, lambda: detail.phone == phone, what="the reveal")
        assert phone in str(detail.query_one("#detail").render()) and detail.caller_name == name
        assert name in str(detail.query_one("#detail").render())
        reveals = [e for e in server.store.audit(request_id) if e.action == "reveal_phone"]
        assert [e.actor for e in reveals] == ["张敏"]
        await pilot.press("escape")
        assert isinstance(app.screen, QueuesScreen)


async def test_an_action_recorded_from_code_reaches_the_server_once(
    server: LiveServer, tmp_path: Path
) -> None:
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        await until(pilot, lambda: synced(app, 60))
        request_id = first_in(app, State.new)
        app.record(request_id, Dispatch(lead_unit="cc01", co_units=["pm01"]))
        await until(pilot, lambda: server_request(server, request_id).state is State.dispatched)
        request = server_request(server, request_id)
        assert (request.lead_unit, request.co_units) == ("cc01", ["pm01"])


NASTY = (
    "[bold red]漏雨[/] [@click=app.quit]点我[/] [link=http://x]链接 "
    "\x1b[2J\x1b]0;pwned\x07 \x9b31m \x7f\x08 尾]["
)
#: NASTY as a dispatcher must see it: every bracket as typed, every control character as a visible
#: stand-in (ESC ␛, BEL ␇, DEL ␡, BS ␈, the C1 CSI 0x9B as �). Written out, not computed by the app.
NASTY_SHOWN = (
    "[bold red]漏雨[/] [@click=app.quit]点我[/] [link=http://x]链接 ␛[2J␛]0;pwned␇ \ufffd31m ␡␈ 尾]["
)
#: What no rendered cell may hold: C0 controls (the newline aside), DEL and C1 controls.
CONTROLS = frozenset(chr(code) for code in (*range(0x20), *range(0x7F, 0xA0))) - {"\n"}


#: One run of text in Rich's SVG export: where it starts (pixels), how long it is, its line, the text.
SVG_TEXT = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="([\d.]+)" '
    r'clip-path="url\(#[\w-]+-line-(\d+)\)">([^<]*)</text>'
)


def screen_lines(app: HotlineApp) -> list[str]:
    """The lines the terminal would show now, toasts included: read from the screenshot the app
    exports (Rich's SVG: each run of text at its cell, wide characters taking two)."""
    width, height = app.size
    cells = [[" "] * width for _ in range(height)]
    for x, length, line, escaped in SVG_TEXT.findall(app.export_screenshot()):
        text = html.unescape(escaped).replace("\xa0", " ").rstrip("\n")
        if not text or int(line) >= height:
            continue
        column = round(float(x) / (float(length) / len(text)))
        for char in text:
            if column < width:
                cells[int(line)][column] = char
            for _ in range(1, cell_len(char)):
                column += 1
                if column < width:
                    cells[int(line)][column] = ""
            column += 1
    return ["".join(row) for row in cells]


def widget_strips(widget: Widget) -> list[Strip]:
    """Every line `widget` renders (border and padding included), whether scrolled into view or not."""
    return widget.render_lines(Region(0, 0, *widget.outer_size)) if widget.outer_size.area else []


def controls_rendered(app: HotlineApp) -> set[str]:
    """Control characters on the screen, or in any segment any widget of the screen renders (toasts
    included), and any segment that is a control code."""
    found = set(CONTROLS.intersection("".join(screen_lines(app))))
    for widget in app.screen.query("*"):
        for strip in widget_strips(widget):
            for segment in strip:
                found |= CONTROLS.intersection(segment.text)
                if segment.control:
                    found.add(repr(segment.control))
    return found


@asynccontextmanager
async def noting_app(
    session: Session, *, size: tuple[int, int] = (100, 30), toasts: bool = False
) -> AsyncIterator[tuple[HotlineApp, Pilot[Any], list[Notification]]]:
    """`running_app`, keeping every notification the app makes (`App.notify`), in order; with
    `toasts`, Textual's toasts are on (Pilot turns them off), so notices are drawn."""
    app = HotlineApp(session, strings=Strings("en"))
    notices: list[Notification] = []

    def keep(message: Message) -> None:
        if isinstance(message, Notify):
            notices.append(message.notification)

    try:
        async with app.run_test(size=size, notifications=toasts, message_hook=keep) as pilot:
            yield app, pilot, notices
    finally:
        session.close()


def toast_text(toast: Widget) -> str:
    """The text a toast shows, its lines joined (cropped to its content, no border)."""
    content = toast.content_region.translate(-toast.region.offset)
    strips = widget_strips(toast)
    return "".join(strips[y].crop(content.x, content.right).text for y in range(content.y, content.bottom))


def audit_shown(app: HotlineApp, detail: DetailScreen) -> bool:
    """Whether the detail shows the audit timeline, no longer loading it."""
    t = app.strings
    shown = str(detail.query_one("#detail").render())
    return t("detail.audit") in shown and t("detail.audit_loading") not in shown


async def test_untrusted_text_is_shown_literally_everywhere(server: LiveServer, tmp_path: Path) -> None:
    """A vulnerable request whose description, address and caller hold markup, unbalanced brackets
    and control characters: the urgent notice, the queue row, the detail and the dispatch dialog
    show each field exactly as written (stand-ins for the controls), and no control character
    reaches the terminal."""
    description, address, caller = f"{NASTY}\n第二行 [dim]", f"地址{NASTY}", f"王[b]{NASTY}"
    description_line = f"{NASTY_SHOWN} 第二行 [dim]"  # one line: the queue row, the notice, dialogs
    async with noting_app(open_session(server, tmp_path), size=(200, 50), toasts=True) as (
        app,
        pilot,
        notices,
    ):
        await until(pilot, lambda: synced(app, 60), what="the first sync")
        nasty = server.store.create_request(
            NewRequest(
                channel=Channel.phone,
                type=RequestType.complaint,
                category="roof_leak",
                description=description,
                location=Location(community="c01", address=address),
                caller={"name": caller, "phone": "13812341234"},  # type: ignore[arg-type]
                vulnerable=True,  # announced as urgent: the notice quotes the description
            ),
            actor="话务-测试",
            idempotency_key=None,
        ).request
        await until(pilot, lambda: nasty.id in app.model, what="the hostile request to arrive")
        assert app.model.get(nasty.id).description == description_line  # type: ignore[union-attr]

        # The urgent notice: sent as plain text, quoting the description literally, shown so.
        await until(pilot, lambda: any(nasty.id in n.message for n in notices), what="the notice")
        notice = next(n for n in notices if nasty.id in n.message)
        assert notice.markup is False
        assert notice.message == app.strings(
            "app.urgent", n=1, id=nasty.id, description=description_line[:40]
        )
        assert notice.message.endswith(f"{nasty.id} [bold red]漏雨[/] [@click=app.quit]点我[/] [")

        def toasts() -> list[Widget]:  # Textual's toasts, by their CSS type, that show the notice
            return [t for t in app.screen.query("Toast") if str(t.render()) == notice.message]

        await until(pilot, lambda: toasts() and toasts()[0].content_region.area > 0, what="the toast")
        await pilot.pause()
        toast = toasts()[0]
        assert "".join(toast_text(toast).split()) == "".join(notice.message.split())  # wrapped, not cut
        assert any(notice.message[-20:] in line for line in screen_lines(app))  # on screen, not hidden
        assert controls_rendered(app) == set()

        # The queue row: the description on one line, exactly.
        await show_request(pilot, app, nasty.id)
        await pilot.pause()
        row_lines = [line for line in screen_lines(app) if line.startswith(nasty.id)]
        assert len(row_lines) == 1 and description_line in row_lines[0]
        assert controls_rendered(app) == set()
        table_screen = app.export_screenshot()

        # The detail: the description with its line break, the address and the caller's name.
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.request is not None)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await until(pilot, lambda: audit_shown(app, detail), what="the audit timeline")
        await pilot.pause()
        t = app.strings
        content = str(detail.query_one("#detail").render())
        assert f"\n{NASTY_SHOWN}\n第二行 [dim]\n" in content
        assert f"{t('detail.address')} 地址{NASTY_SHOWN}\n" in content
        assert f"{t('detail.caller')} {mask_name(caller)}   {t('detail.phone')} " in content  # masked
        lines = [line.strip() for line in screen_lines(app)]
        at = lines.index(NASTY_SHOWN)  # the description's first line, alone on its line
        assert lines[at - 1 : at + 2] == [t("detail.description"), NASTY_SHOWN, "第二行 [dim]"]
        assert f"{t('detail.address')} 地址{NASTY_SHOWN}" in lines
        assert any(line.startswith(f"{t('detail.caller')} {mask_name(caller)}   ") for line in lines)
        assert controls_rendered(app) == set()
        detail_screen = app.export_screenshot()

        # The dispatch dialog names the request: its id and description, literal.
        await pilot.press("escape", "d")
        await until(pilot, lambda: type(app.screen).__name__ == "DispatchDialog")
        await pilot.pause()
        header = str(app.screen.query_one("#request").render())
        assert header == f"{nasty.id}\n{description_line}"
        assert any(description_line[:30] in line for line in screen_lines(app))
        assert controls_rendered(app) == set()
        dialog_screen = app.export_screenshot()
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen) and app.is_running
        for shot in (table_screen, detail_screen, dialog_screen):
            for byte in ("\x1b", "\x07", "\x9b", "\x7f", "\x08"):
                assert byte not in shot


def typed(text: str) -> list[str]:
    """Pilot key names for typing `text` (a space is the key `space`)."""
    return ["space" if ch == " " else ch for ch in text]


async def open_dialog(pilot: Pilot[object], app: HotlineApp, key: str, name: str) -> None:
    await pilot.press(key)
    await until(pilot, lambda: type(app.screen).__name__ == name, what=name)
    await until(pilot, lambda: app.screen.focused is not None, what=f"{name} to take the keys")


async def test_dispatch_by_keys_with_a_lead_and_co_units(server: LiveServer, tmp_path: Path) -> None:
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        screen = queues(app)
        request_id = await first_new_on_screen(pilot, app)
        await open_dialog(pilot, app, "d", "DispatchDialog")
        await pilot.press("d", "s", "j", "enter", "down", "enter", "down", "enter", "ctrl+s")
        await until(
            pilot, lambda: server_request(server, request_id).state is State.dispatched, what="dispatch"
        )
        request = server_request(server, request_id)
        assert request.lead_unit is not None and request.lead_unit.startswith("st-")
        assert len(request.co_units) == 2 and all(u.startswith("st-") for u in request.co_units)
        assert [e.action for e in server.store.audit(request_id)].count("dispatch") == 1
        # the dispatched request left the `new` queue; the cursor moved on to another one
        await until(pilot, lambda: request_id not in [r.id for r in screen.table.rows])


async def test_every_transition_by_keys(server: LiveServer, tmp_path: Path) -> None:
    """accept → note → return → dispatch → accept → extend → resolve → callback (not solved: it
    reopens the request) → accept → resolve → close → reopen: each through its key and dialog, on
    the server once, by this dispatcher, with what was typed: the note, the reasons and their codes,
    the unit, the replies and the new due time (`+1d` from the due time the request had)."""
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        await until(pilot, lambda: with_directory(app), what="the first sync and the directory")
        request_id = await dispatched_elsewhere(pilot, app, server)
        due_before = server_request(server, request_id).due_at
        await show_request(pilot, app, request_id)
        steps: list[tuple[str, str | None, list[str], State]] = [
            ("a", None, [], State.accepted),
            ("n", "NoteDialog", [*typed("called the unit"), "enter"], State.accepted),
            ("r", "ReturnDialog", ["1", *typed("not our area"), "enter"], State.returned),
            ("d", "DispatchDialog", [*typed("cc01"), "enter", "ctrl+s"], State.dispatched),
            ("a", None, [], State.accepted),
            (
                "e",
                "ExtendDialog",
                [*typed("waiting for parts"), "tab", *typed("+1d"), "ctrl+s"],
                State.extended,
            ),
            ("s", "ResolveDialog", [*typed("roof patched"), "enter"], State.resolved),
            ("c", "CallbackDialog", ["y", "tab", "n", "tab", "3", "ctrl+s"], State.reopened),
            ("a", None, [], State.accepted),
            ("s", "ResolveDialog", [*typed("new membrane"), "enter"], State.resolved),
            ("x", "CloseDialog", ["4", *typed("citizen unreachable"), "enter"], State.closed),
            ("o", "ReopenDialog", [*typed("still leaking"), "enter"], State.reopened),
        ]
        for key, dialog, keys, state in steps:
            if dialog is None:
                await pilot.press(key)
            else:
                await open_dialog(pilot, app, key, dialog)
                await pilot.press(*keys)
            reached = lambda s=state: app.model.get(request_id).state is s  # type: ignore[misc, union-attr]  # noqa: E731
            await until(pilot, reached, what=f"{key} → {state}")
        await until(pilot, lambda: synced(app), what="everything sent")
        request = server_request(server, request_id)
        assert request.state is State.reopened
        assert (request.notes[-1].text, request.notes[-1].by) == ("called the unit", "张敏")
        events = server.store.audit(request_id)[-12:]
        assert [e.action for e in events] == [
            "accept", "note", "return", "dispatch", "accept", "extend",
            "resolve", "callback", "accept", "resolve", "close", "reopen",
        ]  # fmt: skip
        assert {e.actor for e in events} == {"张敏"}
        note, returned, dispatch, _, extend, resolve, _, _, resolve_again, close, reopen = events[1:]
        # what the dispatcher typed reached the server as the actions' payloads
        assert note.detail["text"] == "called the unit"
        assert returned.detail["reason"] == "not our area" == returned.after["return_reason"]
        assert returned.detail["code"] == "not_our_duty"
        assert dispatch.detail["lead_unit"] == "cc01" == dispatch.after["lead_unit"]
        assert extend.detail["reason"] == "waiting for parts"
        # `+1d` counts from the due time the request had (no step before changed it)
        extended_to = due_before + timedelta(days=1)
        assert datetime.fromisoformat(str(extend.detail["new_due_at"])) == extended_to
        assert datetime.fromisoformat(str(extend.after["due_at"])) == extended_to
        assert resolve.detail["summary"] == "roof patched"
        assert resolve_again.detail["summary"] == "new membrane"
        assert reopen.detail["reason"] == "still leaking"
        assert (close.detail["code"], close.detail["reason"]) == ("other", "citizen unreachable")
        callback = request.callbacks[-1]
        assert (callback.reached, callback.solved, callback.satisfaction) == (True, False, "not_satisfied")
        assert callback.by == "张敏"
        # the request carries the same story, reasons and all
        assert [step.action for step in request.history[-12:]] == [e.action for e in events]
        assert request.history[-10].code == "not_our_duty" and request.history[-5].state is State.reopened


async def test_a_dialog_cancelled_records_nothing_and_q_in_a_dialog_does_not_quit(
    server: LiveServer, tmp_path: Path
) -> None:
    session = open_session(server, tmp_path)
    async with running_app(session) as (app, pilot):
        await until(pilot, lambda: synced(app, 60))
        request_id = first_in(app, State.resolved)
        await show_request(pilot, app, request_id)
        await open_dialog(pilot, app, "c", "CallbackDialog")
        await pilot.press("q", "x", "escape")
        await until(pilot, lambda: isinstance(app.screen, QueuesScreen))
        assert app.is_running and session.store.counts()[1:] == (0, 0)


async def test_a_conflict_is_shown_and_resolved_by_retry_or_drop(server: LiveServer, tmp_path: Path) -> None:
    session = open_session(server, tmp_path)
    async with running_app(session) as (app, pilot):
        await until(pilot, lambda: with_directory(app), what="the first sync and the directory")
        new_ids = [row.id for row in app.model.rows() if row.state is State.new][:2]
        server.stop()
        await until(pilot, lambda: app.last_status is not None and not app.last_status.online)
        for request_id in new_ids:  # dispatched here, offline …
            await show_request(pilot, app, request_id)
            await open_dialog(pilot, app, "d", "DispatchDialog")
            await pilot.press(*typed("cc01"), "enter", "ctrl+s")
            await until(pilot, lambda r=request_id: app.model.get(r).unsent)  # type: ignore[misc, union-attr]
        central = SqlStore.open(server.db)
        try:
            for request_id in new_ids:  # … and by someone else on the server meanwhile
                version = central.get_request(request_id).version
                central.apply(
                    request_id,
                    Dispatch(lead_unit="pm01"),
                    actor="李强",
                    if_match=version,
                    idempotency_key=None,
                )
        finally:
            central.close()
        server.restart()
        await until(pilot, lambda: app.last_status is not None and app.last_status.conflicts == 2, timeout=30)
        await pilot.press("escape", "5")  # no search: the whole queue of unsent and conflicts
        await until(pilot, lambda: all(app.model.get(r).conflict for r in new_ids))  # type: ignore[union-attr]
        shown = {row.id: row for row in queues(app).table.rows}
        assert all(shown[r].conflict for r in new_ids)
        assert server_request(server, new_ids[0]).lead_unit == "pm01"  # nothing overwritten silently

        await pilot.press("C")
        await until(pilot, lambda: type(app.screen).__name__ == "ConflictsScreen")
        conflicts = app.screen
        await until(pilot, lambda: len(conflicts.records) == 2)  # type: ignore[attr-defined]
        first = conflicts.records[0].action.request_id  # type: ignore[attr-defined]
        second = next(r for r in new_ids if r != first)
        await pilot.press("r")  # retry the first on the server's version
        await until(pilot, lambda: server_request(server, first).lead_unit == "cc01", timeout=20)
        await until(pilot, lambda: len(conflicts.records) == 1)  # type: ignore[attr-defined]
        await pilot.press("x")
        await until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        await pilot.press("y")
        await until(pilot, lambda: session.store.counts()[1:] == (0, 0))
        assert server_request(server, second).lead_unit == "pm01"  # dropped: the server's stays
        await pilot.press("escape")
        await until(pilot, lambda: not app.model.get(second).conflict)  # type: ignore[union-attr]


async def test_filter_saved_as_a_named_queue_and_opened_again(server: LiveServer, tmp_path: Path) -> None:
    """A category and a channel chosen in the filter dialog narrow the `all` queue to exactly the
    requests that have both; saved under a name, the queue opens again with the same rows."""
    session = open_session(server, tmp_path)
    async with running_app(session) as (app, pilot):
        await until(pilot, lambda: synced(app, 60) and session.directory is not None)
        screen = queues(app)
        rows = list(app.model.rows())
        categories = [c.code for c in session.categories]
        channels = [c.value for c in Channel]  # the dialog lists them in this order

        # the category and channel that leave the most rows while each choice leaves out some
        # that the other keeps (the demo data depends on the day it is seeded)
        def narrowed(category: str, channel: str) -> tuple[set[str], set[str], set[str]]:
            by_category = {r.id for r in rows if r.category == category}
            by_channel = {r.id for r in rows if r.channel == channel}
            return by_category & by_channel, by_category, by_channel

        def fitness(pair: tuple[str, str]) -> int:
            both, by_category, by_channel = narrowed(*pair)
            return len(both) if len(both) < min(len(by_category), len(by_channel)) else -1

        category, channel = max(((c, ch) for c in categories for ch in channels), key=fitness)
        expected, by_category, by_channel = narrowed(category, channel)
        assert expected and expected != by_category and expected != by_channel  # each choice narrows

        await pilot.press("6")
        await open_dialog(pilot, app, "f", "FilterDialog")
        await pilot.press("tab", "home", *["down"] * categories.index(category), "space")
        await pilot.press("tab", "tab", "tab", "home", *["down"] * channels.index(channel), "space")
        await pilot.press("tab", "tab", *typed("my leaks"), "enter")
        await until(pilot, lambda: isinstance(app.screen, QueuesScreen) and screen.saved_name == "my leaks")
        assert screen.filter.categories == {category} and screen.filter.channels == {channel}
        assert not (screen.filter.communities or screen.filter.units or screen.filter.tiers)
        shown = screen.table.rows
        assert {r.id for r in shown} == expected and len(shown) == len(expected)
        assert all(r.category == category and r.channel == channel for r in shown)
        await until(pilot, lambda: session.saved_queues.get("my leaks") is not None)
        assert (session.store.directory / "queues.json").stat().st_mode & 0o777 == 0o600

        await pilot.press("escape")
        assert screen.filter.is_empty and screen.table.row_count == 60
        await open_dialog(pilot, app, "v", "SavedQueuesDialog")
        await pilot.press("enter")
        await until(pilot, lambda: screen.saved_name == "my leaks")
        assert screen.filter.categories == {category} and screen.filter.channels == {channel}
        assert screen.kind is QueueKind.all
        await until(pilot, lambda: {r.id for r in screen.table.rows} == expected, what="the saved rows")
        assert screen.table.row_count == len(expected)
        assert all(r.category == category and r.channel == channel for r in screen.table.rows)


def test_a_key_rebound_in_the_config_file_reaches_the_running_app(
    server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`[keys] "request.dispatch" = "w"` in the config file, read by `hotline` (the cli's settings
    and its HotlineApp(keymap=…)): in the running app `w` opens the dispatch dialog and dispatches,
    `d` no longer does anything, and the help lists `w` for the dispatch."""
    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"request.dispatch" = "w"\n', encoding="utf-8")
    for name in ("HOTLINE_KEYS", "HOTLINE_CONFIG", "HOTLINE_TOKEN_FILE", "HOTLINE_MOUSE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOTLINE_API_URL", server.url)
    monkeypatch.setenv("HOTLINE_TOKEN", server.store.create_token("张敏", Role.dispatcher))
    monkeypatch.setenv("HOTLINE_DISPATCHER", "张敏")
    monkeypatch.setenv("HOTLINE_CACHE_DIR", str(tmp_path / "cli-cache"))
    monkeypatch.setenv("HOTLINE_LANG", "en")
    started: list[HotlineApp] = []

    async def drive(app: HotlineApp) -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            request_id = await first_new_on_screen(pilot, app)
            # the old key first, then help: had `d` opened the dialog, `?` would be typed into it
            await pilot.press("d", "question_mark")
            await until(
                pilot,
                lambda: type(app.screen).__name__ == "HelpScreen",
                what="the help (`d` must not open the dispatch dialog)",
            )
            assert [type(s).__name__ for s in app.screen_stack] == ["Screen", "QueuesScreen", "HelpScreen"]
            help_lines = str(app.screen.query_one("#help Static").render()).splitlines()
            assert ["w", "Dispatch", "request.dispatch"] in [line.split() for line in help_lines]
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, QueuesScreen))
            await open_dialog(pilot, app, "w", "DispatchDialog")
            await pilot.press(*typed("cc01"), "enter", "ctrl+s")
            await until(pilot, lambda: server_request(server, request_id).state is State.dispatched)
            assert server_request(server, request_id).lead_unit == "cc01"

    def run_headless(app: HotlineApp, **_options: object) -> None:
        started.append(app)
        asyncio.run(drive(app))

    monkeypatch.setattr(HotlineApp, "run", run_headless)
    assert cli.main(["--config", str(config)]) == 0
    assert len(started) == 1
