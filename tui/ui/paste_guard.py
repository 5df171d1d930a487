"""`PasteGuard`: a paste that holds an escape sequence arrives whole, as one `Paste`.

In a real terminal Textual's input parser does not read an escape sequence inside a bracketed
paste as pasted text: from the ESC on (up to the next ESC or 32 characters) it sends what it read
as key presses, the ESC as `^`, and only then the `Paste` of the rest. A pasted
`原因\n第二行\x1b[31m红\n第三行` would type `^[31m红`, press Enter (submitting the dialog) and type
`第三行`. The guard holds the keys that follow a `^` for a moment: when a `Paste` comes meanwhile,
they were part of it and are given back to it as text (the `^` as the ESC it was, so the field
drops the sequence whole: `tui.ui.widgets.text_field`); otherwise they were typed, and go on as
keys. Nothing of a paste is lost; its part after an escape sequence may come after the rest.
"""

from __future__ import annotations

from typing import Any, Final

from textual import events
from textual.timer import Timer

from tui.ui.keys import KeymapApp

__all__ = ["HOLD_FOR", "PasteGuard", "paste_text"]

#: How long keys after a `^` wait for a paste: the parser sends both at once, a person types `^`
#: rarely and sees it this much later.
HOLD_FOR: Final = 0.3
#: The key Textual's parser sends for an ESC inside a paste.
_CARET: Final = "circumflex_accent"
_TEXT_OF_KEY: Final = {"enter": "\n", "tab": "\t", _CARET: "\x1b"}


def paste_text(keys: list[events.Key], pasted: str) -> str:
    """What was pasted: the `Paste`'s text, then the keys the parser sent for the rest of it."""
    return pasted + "".join(_TEXT_OF_KEY.get(key.key, key.character or "") for key in keys)


class PasteGuard(KeymapApp):
    """The app's keys, with the keys a paste's escape sequence became given back to the paste."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.paste_keys: list[events.Key] = []
        self.paste_timer: Timer | None = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self.paste_keys or event.key == _CARET:
                self.paste_keys.append(event)
                if self.paste_timer is None:
                    self.paste_timer = self.set_timer(HOLD_FOR, self.release_keys)
                return
        elif isinstance(event, events.Paste) and not event.is_forwarded and self.paste_keys:
            keys, self.paste_keys = self.paste_keys, []
            self._stop_paste_timer()
            await super().on_event(events.Paste(paste_text(keys, event.text)))
            return
        await super().on_event(event)

    async def release_keys(self) -> None:
        """No paste came: the held keys were typed."""
        self.paste_timer = None
        keys, self.paste_keys = self.paste_keys, []
        for key in keys:
            await super().on_event(key)

    def _stop_paste_timer(self) -> None:
        if self.paste_timer is not None:
            self.paste_timer.stop()
            self.paste_timer = None
