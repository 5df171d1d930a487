"""`TextField`: the one-line field of the dialogs and the search, safe to paste into.

A paste keeps every line (joined with ` / `, and the field says so with `LinesJoined`) instead of
Textual's first line only, and drops terminal escape sequences and control characters whole
(`api_client.domain.untrusted_text.pasted_lines`): a pasted `ESC[31m…` colours nothing, and a
pasted line break never submits the dialog. The cursor does not blink (nothing moves while the
dispatcher thinks).
"""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Input

from api_client.domain.untrusted_text import pasted_lines

__all__ = ["JOINER", "TextField"]

#: What stands between pasted lines in a one-line field.
JOINER = " / "


class TextField(Input):
    class LinesJoined(Message):
        """A paste of `count` lines was joined into one line."""

        def __init__(self, field: TextField, count: int) -> None:
            super().__init__()
            self.field = field
            self.count = count

    def __init__(
        self,
        value: str = "",
        *,
        placeholder: str = "",
        max_length: int = 4000,
        id: str | None = None,
        select_on_focus: bool = True,
    ) -> None:
        super().__init__(
            value, placeholder=placeholder, max_length=max_length, id=id, select_on_focus=select_on_focus
        )
        self.cursor_blink = False

    def on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # not Input's own paste, which keeps the first line only
        event.stop()
        lines = pasted_lines(event.text)
        if not lines:
            return
        text = JOINER.join(lines)
        selection = self.selection
        if selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *selection)
        if len(lines) > 1:
            self.post_message(self.LinesJoined(self, len(lines)))
