"""`FittingFooter`: the keys line at the bottom of every screen, never a key cut in half.

Textual's footer lays its keys out in a row and clips the row at the terminal's edge, so in a
narrow terminal (80 columns in English, where descriptions are longer) the last key shown may be
half a word. This one shows the keys that fit: when a screen's keys are wider than the footer,
the ones just before help and quit give way, right to left, and help and quit always stay (help,
and the palette, list every key). It follows the terminal's width and the screen's bindings.
"""

from __future__ import annotations

from typing import Final

from textual.widget import Widget
from textual.widgets import Footer

__all__ = ["FittingFooter"]

#: The actions whose keys the footer always shows.
KEPT: Final = frozenset({"help", "quit"})


class FittingFooter(Footer):
    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)  # ctrl+p is in help

    async def recompose(self) -> None:
        await super().recompose()
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit)

    def fit(self) -> None:
        """Show the keys that fit the footer's width, the kept ones always."""
        # The footer's key widgets: Textual exports no class for them; its CSS type names them.
        keys = list(self.query("FooterKey").results(Widget))
        widths = [self.cells(key) for key in keys]
        shown = set(range(len(keys)))
        given_way = [i for i, key in enumerate(keys) if not kept(key)]
        while sum(widths[i] for i in shown) > self.size.width and given_way:
            shown.discard(given_way.pop())
        for index, key in enumerate(keys):
            key.display = index in shown

    def cells(self, key: Widget) -> int:
        """The terminal cells `key` takes in the row: its text, padding, border and margin."""
        content = key.get_content_width(self.size, self.app.size)
        return content + key.styles.gutter.width + key.styles.margin.width


def kept(key: Widget) -> bool:
    """Whether `key` is for an action the footer always shows (`app.help` is `help`)."""
    action = str(getattr(key, "action", ""))
    return action.rpartition(".")[2] in KEPT
