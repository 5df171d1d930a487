"""`DescriptionArea`: a citizen's words in several lines, safe to paste into: a paste keeps its lines
and drops terminal escape sequences and control characters whole
(`api_client.domain.untrusted_text.pasted_lines`). The cursor does not blink."""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea

from api_client.domain.untrusted_text import pasted_lines

__all__ = ["DescriptionArea"]


class DescriptionArea(TextArea):
    """The description: several lines; a paste keeps its lines and drops escape sequences and
    control characters whole (`untrusted_text.pasted_lines`)."""

    def on_mount(self) -> None:
        self.cursor_blink = False  # nothing moves while the call-taker listens

    def on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # not TextArea's own paste, which keeps every byte
        event.stop()
        lines = pasted_lines(event.text)
        if lines:
            self.replace("\n".join(lines), *self.selection)
