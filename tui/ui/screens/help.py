"""`HelpScreen`: every key of the app, grouped by where it works, as the keymap has them now.

Each line shows the binding's id too: that is the name to use in the config file's `[keys]`
table to rebind it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.core.i18n import Strings
from tui.ui.global_keys import APP_BINDINGS
from tui.ui.keys import Translated, describe_bindings, keymap_of

__all__ = ["HelpScreen", "help_text"]


def help_text(strings: Strings, keymap: dict[str, str]) -> Text:
    """The help as text: one section per part of the app."""
    from tui.ui.screens.detail import DetailScreen
    from tui.ui.screens.duplicates import DuplicatesScreen
    from tui.ui.screens.queues import QueuesScreen
    from tui.ui.screens.storm_map import StormMapScreen
    from tui.ui.widgets.queue_table import QueueTable

    out = Text(end="")
    out.append(strings("help.title"), "bold")
    close = describe_bindings(HelpScreen.BINDINGS, keymap, strings)[0]
    out.append(f"  ({close.keys}: {close.description})\n", "dim")  # how to leave this screen
    out.append(f"{strings('help.remap')}\n", "dim")
    for title, bindings in (
        ("help.requests", APP_BINDINGS),
        ("help.queues", [*QueuesScreen.BINDINGS, *QueueTable.BINDINGS]),
        ("help.detail", DetailScreen.BINDINGS),
        ("help.duplicates", DuplicatesScreen.BINDINGS),
        ("help.storm_map", StormMapScreen.BINDINGS),
    ):
        out.append(f"\n{strings(title)}\n", "bold underline")
        for line in describe_bindings(bindings, keymap, strings):
            out.append(f"  {line.keys:<14}", "bold")
            out.append(f"{line.description}")
            out.append(f"  {line.id}\n", "dim")
    out.append(f"\n  {'ctrl+p':<14}", "bold")
    out.append(f"{strings('help.palette')}\n")
    return out


class HelpScreen(Translated, ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
        Binding("j,down", "scroll(1)", "Down", show=False, id="help.scroll_down"),
        Binding("k,up", "scroll(-1)", "Up", show=False, id="help.scroll_up"),
    ]
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        #help { width: 90%; max-width: 100; height: 90%; border: round $accent; padding: 0 1;
                background: $surface; }
    }
    """

    def compose(self) -> ComposeResult:
        strings = getattr(self.app, "strings", Strings())
        keymap = dict(keymap_of(self.app))
        with VerticalScroll(id="help"):
            yield Static(help_text(strings, keymap))

    def on_mount(self) -> None:
        self.query_one("#help").focus()

    def action_scroll(self, step: int) -> None:
        self.query_one("#help", VerticalScroll).scroll_relative(y=step, animate=False)
