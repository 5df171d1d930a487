"""`HelpScreen`: every key of the app, grouped by where it works, as the keymap has them now.

Each line shows the binding's id too: that is the name to use in the config file's `[keys]`
table to rebind it. A unit's login sees only the keys it may use, its queues under their names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.core.i18n import MESSAGES, Strings
from tui.ui.global_keys import APP_BINDINGS
from tui.ui.keys import Translated, describe_bindings, keymap_of

__all__ = ["HelpScreen", "help_text"]


#: The sections of screens only the centre's logins open.
_CENTRE_ONLY = frozenset({"help.intake", "help.duplicates"})


def help_text(
    strings: Strings,
    keymap: dict[str, str],
    *,
    hides: Callable[[Binding], bool] | None = None,
    unit: bool = False,
) -> Text:
    """The help as text: one section per part of the app, without the keys `hides` (those a
    unit's login may not use); for a `unit`'s login, its queues by their names."""
    from tui.ui.screens.detail import DetailScreen
    from tui.ui.screens.duplicates import DuplicatesScreen
    from tui.ui.screens.intake import IntakeScreen
    from tui.ui.screens.queues import QueuesScreen
    from tui.ui.screens.storm_map import StormMapScreen
    from tui.ui.widgets.queue_table import QueueTable

    out = Text(end="")
    out.append(strings("help.title"), "bold")
    close = describe_bindings(HelpScreen.BINDINGS, keymap, strings)[0]
    out.append(f"  ({close.keys}: {close.description})\n", "dim")  # how to leave this screen
    out.append(f"{strings('help.remap')}\n", "dim")
    if unit:
        out.append(f"{strings('help.unit')}\n", "bold")
    for title, bindings in (
        ("help.requests", APP_BINDINGS),
        ("help.queues", [*QueuesScreen.BINDINGS, *QueueTable.BINDINGS]),
        ("help.detail", DetailScreen.BINDINGS),
        ("help.intake", IntakeScreen.BINDINGS),
        ("help.duplicates", DuplicatesScreen.BINDINGS),
        ("help.storm_map", StormMapScreen.BINDINGS),
    ):
        if unit and title in _CENTRE_ONLY:
            continue
        out.append(f"\n{strings(title)}\n", "bold underline")
        shown = [b for b in bindings if hides is None or not (isinstance(b, Binding) and hides(b))]
        for line in describe_bindings(shown, keymap, strings):
            words = f"unit_key.{line.id}"
            out.append(f"  {line.keys:<14}", "bold")
            out.append(strings(words) if unit and words in MESSAGES else line.description)
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
            hides = getattr(self.app, "hides", None)
            unit = getattr(self.app, "own_unit", None) is not None
            yield Static(help_text(strings, keymap, hides=hides, unit=unit))

    def on_mount(self) -> None:
        self.query_one("#help").focus()

    def action_scroll(self, step: int) -> None:
        self.query_one("#help", VerticalScroll).scroll_relative(y=step, animate=False)
