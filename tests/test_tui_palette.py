"""The command palette (ctrl+p): every transition on the current or marked requests, found by
Chinese words, pinyin and initials, only when it applies; Textual's own entries in the interface's
language. The app on an offline cache, driven with Pilot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from app_support import SEED_NOW, Central, cached_session, seeded_central, until
from textual.command import CommandInput, CommandList, CommandPalette
from textual.pilot import Pilot

from api_client.domain.lifecycle import ALLOWED_FROM
from api_client.models import State
from tui.core.command_search import command_score
from tui.core.i18n import MESSAGES, Lang, Strings
from tui.core.queue.kinds import QueueKind, kinds_of
from tui.ui.app import HotlineApp
from tui.ui.global_keys import TRANSITIONS
from tui.ui.screens.dispatch import DispatchDialog
from tui.ui.screens.queues import QueuesScreen

CLOCK = SEED_NOW.timestamp() + 600

#: Each transition (and 并单) by its Chinese word, its pinyin and its initials.
WORDS = {
    "dispatch": ("派单", "paidan", "pd"),
    "accept": ("签收", "qianshou", "qs"),
    "return": ("退单", "tuidan", "td"),
    "extend": ("延期", "yanqi", "yq"),
    "resolve": ("办结", "banjie", "bj"),
    "callback": ("回访", "huifang", "hf"),
    "close": ("结案", "jiean", "ja"),
    "reopen": ("重办", "chongban", "cb"),
    "escalate": ("提级", "tiji", "tj"),
    "note": ("备注", "beizhu", "bz"),
    "merge": ("并单", "bingdan", "bd"),
}


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Central:
    return seeded_central(tmp_path_factory.mktemp("central"), 60)


@asynccontextmanager
async def queues(
    central: Central, tmp_path: Path, lang: Lang = "zh"
) -> AsyncIterator[tuple[HotlineApp, Pilot[Any]]]:
    """The app on every request (queue 6), offline."""
    with cached_session(central, tmp_path / "cache") as session:
        app = HotlineApp(
            session, strings=Strings(lang), clock=lambda: CLOCK, sync=False, announce_urgent=False
        )
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.loaded and isinstance(app.screen, QueuesScreen), what="the queues")
            await pilot.press("6")
            await until(pilot, lambda: queue(app).table.row_count == len(app.model), what="every request")
            yield app, pilot


def queue(app: HotlineApp) -> QueuesScreen:
    screen = app.screen_stack[1]
    assert isinstance(screen, QueuesScreen)
    return screen


def in_state(app: HotlineApp, state: State, index: int = 0) -> str:
    """Put the cursor on a request the server has in `state` (the `index`-th row, made so)."""
    table = queue(app).table
    row = table.rows[index]
    app.model.upsert([row._replace(state=state, kinds=kinds_of(state, row.unsent, row.conflict))])
    queue(app).reapply()
    position = next(i for i, shown in enumerate(table.rows) if shown.id == row.id)
    table.move_cursor(position)
    return row.id


async def palette(pilot: Pilot[Any], app: HotlineApp, query: str) -> list[str]:
    """Open the palette, type `query`, and read what it lists (each entry's first line)."""
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
    commands = app.screen.query_one(CommandList)
    app.screen.query_one(CommandInput).value = query  # typed (an IME gives Chinese as text)

    def listed() -> list[str]:
        return [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]

    await until(pilot, lambda: bool(listed()), what=f"what {query!r} finds")
    await pilot.pause(0.3)  # every provider has answered
    return listed()


async def close(pilot: Pilot[Any], app: HotlineApp) -> None:
    await pilot.press("escape")
    await until(pilot, lambda: not isinstance(app.screen, CommandPalette), what="the palette to close")


def titles(listed: list[str]) -> list[str]:
    return [entry.split("\n")[0] for entry in listed]


async def test_every_transition_is_found_by_its_word_pinyin_and_initials_when_it_applies(
    central: Central, tmp_path: Path
) -> None:
    async with queues(central, tmp_path) as (app, pilot):
        keys = dict(TRANSITIONS)
        for name, (word, spelled, initials) in WORDS.items():
            if name == "merge":  # the marked requests into the one under the cursor
                in_state(app, State.new, 1)
                await pilot.press("space")
                in_state(app, State.new, 0)
                title = f"{MESSAGES['key.request.merge'][0]} (m)"
            else:
                request_id = in_state(app, next(iter(sorted(ALLOWED_FROM[name]))))
                key = "!" if keys[name] == "exclamation_mark" else keys[name]
                title = f"{MESSAGES[f'key.request.{name}'][0]} ({key})"
            for typed in (word, spelled, initials):
                listed = await palette(pilot, app, typed)
                assert titles(listed)[0] == title, (name, typed, listed)
                if name != "merge":
                    assert listed[0].endswith(app.strings("commands.on_request", id=request_id))
                await close(pilot, app)
            if name == "merge":
                await pilot.press("escape")  # unmark


async def test_a_transition_that_does_not_apply_is_not_offered(central: Central, tmp_path: Path) -> None:
    async with queues(central, tmp_path) as (app, pilot):
        in_state(app, State.new)
        listed = await palette(pilot, app, "签收")  # a new request is dispatched before it is signed for
        assert titles(listed) == [app.strings("palette.no_match")]  # in Chinese, not "No matches found"
        await close(pilot, app)
        in_state(app, State.closed)
        assert "派单 (d)" not in titles(await palette(pilot, app, "pd"))
        await close(pilot, app)
        assert titles(await palette(pilot, app, "cb")) == ["重办 (o)"]


async def test_choosing_a_transition_runs_it_on_the_current_request(central: Central, tmp_path: Path) -> None:
    async with queues(central, tmp_path) as (app, pilot):
        request_id = in_state(app, State.new)
        await palette(pilot, app, "paidan")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DispatchDialog), what="the dispatch dialog")
        dialog = app.screen
        assert isinstance(dialog, DispatchDialog) and dialog.request.id == request_id


async def test_on_marked_requests_it_says_how_many(central: Central, tmp_path: Path) -> None:
    async with queues(central, tmp_path) as (app, pilot):
        for index in (0, 1, 2):
            in_state(app, State.new, index)
        queue(app).table.move_cursor(0)
        await pilot.press("space", "space", "space")
        listed = await palette(pilot, app, "派单")
        assert titles(listed)[0] == "派单 (d)"
        assert listed[0].endswith(app.strings("commands.on_marked", n=3))


async def test_in_the_callback_queue_the_callback_is_offered(central: Central, tmp_path: Path) -> None:
    async with queues(central, tmp_path) as (app, pilot):
        await pilot.press("4")
        assert queue(app).kind is QueueKind.callback
        assert titles(await palette(pilot, app, "hf"))[0] == "回访 (c)"
        await close(pilot, app)
        assert "派单 (d)" not in titles(await palette(pilot, app, "派单"))


@pytest.mark.parametrize(
    ("lang", "own", "english"),
    [
        ("zh", ["配色主题", "按键面板", "截图", "退出 (q)"], ["Theme", "Keys", "Screenshot", "Quit"]),
        ("en", ["Theme", "Keys panel", "Screenshot", "Quit (q)"], []),
    ],
)
async def test_textuals_own_entries_speak_the_interface_language(
    central: Central, tmp_path: Path, lang: Lang, own: list[str], english: list[str]
) -> None:
    async with queues(central, tmp_path, lang) as (app, pilot):
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
        palette_screen = app.screen
        commands = palette_screen.query_one(CommandList)
        await until(pilot, lambda: commands.option_count > 0, what="the commands")
        await pilot.pause(0.3)
        shown = titles([str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)])
        assert set(own) <= set(shown)
        assert not set(english) & set(shown)
        placeholder = palette_screen.query_one(CommandInput).placeholder
        assert placeholder == app.strings("palette.placeholder")
        await close(pilot, app)
        found = titles(await palette(pilot, app, "zhuti" if lang == "zh" else "theme"))
        assert found[0] == own[0]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the theme picker")
        assert app.screen.query_one(CommandInput).placeholder == app.strings("commands.theme_placeholder")


def test_scores_rank_the_word_above_its_start_above_pinyin_above_nothing() -> None:
    words = ("派单", "Dispatch", "派单", "dispatch")
    assert command_score("派单", words) == 1.0
    assert command_score("disp", words) == 0.9
    assert 0.8 < command_score("pd", words) < 1.0
    assert 0.8 < command_score("paidan", words) < 1.0
    assert 0 < command_score("pai", words) < command_score("paidan", words)
    assert command_score("ＤＩＳＰＡＴＣＨ", words) == 1.0  # full-width letters from an IME
    assert command_score("签收", words) == 0.0
    assert command_score("", words) == 0.0
