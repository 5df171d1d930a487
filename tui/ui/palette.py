"""The command palette (ctrl+p): every action of the app in the interface's language, found by
its words in either language, by pinyin or by pinyin initials (`派单`, `paidan`, `pd`,
`dispatch`; `tui.core.command_search`).

- The transitions (派单 签收 退单 延期 办结 回访 结案 重办 提级 备注 催办) and 并单 act on the request
  under the cursor, or on the marked ones; each is listed only when the app's `check_action` allows
  it, as the footer shows it (a unit's login: only what a unit does, `tui.ui.unit_guard`). The
  list is made when ctrl+p is pressed, for the screen the palette opens over (once open, the
  palette is the app's screen and nothing would apply).
- The screen's own keys, and on the queues the saved queues.
- Textual's own entries (theme, keys panel, maximize, screenshot) in the interface's language;
  quit is the app's (`q`, which asks first while actions are unsent).
- A search that finds nothing says so in the interface's language, with what to try.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import platformdirs
from textual.actions import parse
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, ProviderSource, SimpleProvider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import Screen
from textual.theme import ThemeProvider

from tui.core.command_search import command_score, normalized
from tui.core.i18n import MESSAGES, Strings
from tui.ui.keys import describe_bindings

if TYPE_CHECKING:
    from tui.ui.app import HotlineApp

__all__ = ["CommandSearch", "PaletteCommand", "app_commands", "open_palette", "palette_commands"]

#: Actions that act on the current request or the marked ones.
_ON_REQUESTS = frozenset({"transition", "merge", "unmerge", "answer"})


class PaletteCommand(NamedTuple):
    """One entry of the palette."""

    title: str  # in the interface's language, with its key
    help: str
    run: Callable[[], object]
    words: tuple[str, ...]  # what finds it: its names in both languages (pinyin is derived)


def open_palette(app: HotlineApp) -> None:
    """Open the palette over the current screen, with the commands that apply there."""
    if not app.use_command_palette or isinstance(app.screen, CommandPalette):
        return
    screen = app.screen
    search = CommandSearch(screen, palette_commands(app, screen), _no_match(app.strings))
    providers = cast(ProviderSource, [search])  # an instance, as `App.search_commands` passes one
    palette = CommandPalette(
        providers, placeholder=app.strings("palette.placeholder"), id="--command-palette"
    )
    app.push_screen(palette)


def app_commands(app: HotlineApp, screen: Screen[object]) -> Iterator[SystemCommand]:
    """The palette's commands as Textual's system commands (`App.get_system_commands`)."""
    for command in palette_commands(app, screen):
        yield SystemCommand(command.title, command.help, command.run)


def palette_commands(app: HotlineApp, screen: Screen[object]) -> list[PaletteCommand]:
    """Every command that applies on `screen`, which must be the app's screen (the app's
    `check_action` reads it)."""
    from tui.ui.screens.queues import QueuesScreen

    strings = app.strings
    marked = app.marked_ids()
    current = app.current_request_id()
    target = (
        strings("commands.on_marked", n=len(marked))
        if marked
        else strings("commands.on_request", id=current or "")
    )
    commands: list[PaletteCommand] = []
    for binding, title in _described(app.BINDINGS, app):
        name, parameters = _action(binding)
        if app.check_action(name, parameters) is not True:
            continue
        if name == "transition":
            transition = str(parameters[0])
            run: Callable[[], object] = partial(app.action_transition, transition)
            words = (*_words(f"key.{binding.id}"), *_words(f"action.{transition}"))
        else:
            run = partial(app.run_action, binding.action)
            words = (*_words(f"key.{binding.id}"), *_words(f"action.{name}"))
        help_text = target if name in _ON_REQUESTS else strings("commands.app_help")
        commands.append(PaletteCommand(title, help_text, run, words))
    for binding, title in _described(screen.BINDINGS, app):
        name, parameters = _action(binding)
        if screen.check_action(name, parameters) is not True:
            continue
        run = partial(screen.run_action, binding.action)
        help_text = strings("commands.screen_help")
        commands.append(PaletteCommand(title, help_text, run, _words(f"key.{binding.id}")))
    if isinstance(screen, QueuesScreen):
        for saved in app.session.saved_queues:
            title = strings("commands.saved_queue", name=saved.name)
            help_text = strings("commands.saved_queue_help")
            words = (title, saved.name, *_words("commands.saved_queue_help"))
            commands.append(PaletteCommand(title, help_text, partial(screen.apply_saved, saved), words))
    commands.extend(_textual_commands(app, screen))
    return commands


def _textual_commands(app: HotlineApp, screen: Screen[object]) -> Iterator[PaletteCommand]:
    """Textual's own entries, in the interface's language (its quit is the app's `q`)."""
    strings = app.strings

    def command(key: str, run: Callable[[], object]) -> PaletteCommand:
        return PaletteCommand(strings(key), strings(f"{key}_help"), run, _words(key))

    yield command("commands.theme", partial(_choose_theme, app))
    if screen.query("HelpPanel"):
        yield command("commands.keys_hide", app.action_hide_help_panel)
    else:
        yield command("commands.keys_show", app.action_show_help_panel)
    if screen.maximized is not None:
        yield command("commands.minimize", screen.action_minimize)
    elif screen.focused is not None and screen.focused.allow_maximize:
        yield command("commands.maximize", screen.action_maximize)
    yield command("commands.screenshot", partial(app.set_timer, 0.1, partial(_screenshot, app)))


def _choose_theme(app: HotlineApp) -> None:
    placeholder = app.strings("commands.theme_placeholder")
    app.push_screen(CommandPalette(providers=[ThemeProvider], placeholder=placeholder))


def _screenshot(app: HotlineApp) -> None:
    """Save the screen as SVG in the downloads folder (in a thread), and say where."""
    svg = app.export_screenshot()
    folder = Path(platformdirs.user_downloads_dir())
    path = folder / f"hotline-{time.strftime('%Y%m%d-%H%M%S')}.svg"

    async def save() -> None:
        try:
            await asyncio.to_thread(_write, path, svg)
        except OSError as exc:
            failed = app.strings("commands.screenshot_failed", reason=exc.strerror or str(exc))
            app.say(failed, severity="error")
            return
        app.say(app.strings("commands.screenshot_saved", path=str(path)))

    app.run_worker(save(), group="screenshot")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _described(bindings: Iterable[BindingType], app: HotlineApp) -> Iterator[tuple[Binding, str]]:
    """The bindings with an id, and their palette titles: words and keys (`派单 (d)`)."""
    by_id = {b.id: b for b in bindings if isinstance(b, Binding) and b.id}
    for line in describe_bindings(by_id.values(), app.keymap, app.strings):
        yield by_id[line.id], f"{line.description} ({line.keys})"


def _action(binding: Binding) -> tuple[str, tuple[object, ...]]:
    _namespace, name, parameters = parse(binding.action)
    return name, tuple(parameters)


def _words(key: str) -> tuple[str, ...]:
    """A message's words in both languages."""
    return tuple(MESSAGES.get(key, ()))


def _no_match(strings: Strings) -> PaletteCommand:
    return PaletteCommand(strings("palette.no_match"), strings("palette.no_match_help"), _nothing, ())


def _nothing() -> None:
    """What choosing "no command matches" does."""


class CommandSearch(SimpleProvider):
    """The palette's commands, searched by `command_score` (Textual's fuzzy match below that)."""

    def __init__(
        self, screen: Screen[Any], commands: Sequence[PaletteCommand], no_match: PaletteCommand
    ) -> None:
        super().__init__(screen, [])
        self.found = list(commands)
        self.no_match = no_match

    async def discover(self) -> Hits:
        for command in self.found:
            yield DiscoveryHit(Content(command.title), command.run, text=command.title, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        hits = 0
        for command in self.found:
            score = command_score(query, command.words) or _fuzzy(matcher.match(command.title))
            if score > 0:
                hits += 1
                shown = _highlighted(command.title, query, matcher)
                yield Hit(score, shown, command.run, text=command.title, help=command.help)
        if not hits:  # Textual would say "No matches found" in English
            none = self.no_match
            yield Hit(0.001, Content(none.title), none.run, text=none.title, help=none.help)


def _fuzzy(score: float) -> float:
    """Textual's fuzzy score (unbounded) below every literal or pinyin match (0.4 at most)."""
    return 0.4 * score / (score + 1.0)


def _highlighted(title: str, query: str, matcher: Matcher) -> Content:
    """`title` as plain text (never markup), with what `query` matched in it highlighted."""
    content = Content(title)
    typed = normalized(query)
    start = title.lower().find(typed) if typed else -1
    if start >= 0:
        return content.stylize(matcher.match_style, start, start + len(typed))
    score, offsets = matcher.fuzzy_search.match(query, title)
    for offset in offsets if score else ():
        if not title[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
