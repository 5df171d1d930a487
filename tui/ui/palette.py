"""The command palette (ctrl+p): every action of the app, named in the user's language, with
its key, plus the queues and saved queues to jump to."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.markup import escape
from textual.screen import Screen

from tui.ui.keys import describe_bindings

if TYPE_CHECKING:
    from tui.ui.app import HotlineApp

__all__ = ["app_commands"]


def app_commands(app: HotlineApp, screen: Screen[object]) -> Iterator[SystemCommand]:
    from tui.ui.screens.queues import QueuesScreen

    strings = app.strings
    keymap = app.keymap
    for line in describe_bindings(app.BINDINGS, keymap, strings):
        binding = next(b for b in app.BINDINGS if getattr(b, "id", None) == line.id)
        action = getattr(binding, "action", "")
        if action.startswith("transition("):
            name = line.id.removeprefix("request.")
            if app.check_action("transition", (name,)) is not True:
                continue
            yield SystemCommand(
                f"{line.description} ({line.keys})",
                strings("commands.on_current"),
                partial(app.action_transition, name),
            )
        else:
            yield SystemCommand(f"{line.description} ({line.keys})", line.id, partial(app.run_action, action))
    queues = screen if isinstance(screen, QueuesScreen) else None
    if queues is not None:
        for line in describe_bindings(QueuesScreen.BINDINGS, keymap, strings):
            binding = next(b for b in QueuesScreen.BINDINGS if getattr(b, "id", None) == line.id)
            yield SystemCommand(
                f"{line.description} ({line.keys})",
                line.id,
                partial(queues.run_action, getattr(binding, "action", "")),
            )
        for saved in app.session.saved_queues:
            yield SystemCommand(
                strings("commands.saved_queue", name=escape(saved.name)),
                strings("commands.saved_queue_help"),
                partial(queues.apply_saved, saved),
            )
    yield from App.get_system_commands(app, screen)  # Textual's own: theme, keys, screenshot, quit
