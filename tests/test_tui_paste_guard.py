"""`PasteGuard`: what a real terminal's paste of an escape sequence becomes in Textual (the keys
from the ESC on, the ESC as `^`, then the `Paste` of the rest) arrives as one paste: nothing
typed, nothing submitted, every line kept and the sequence dropped by the field. A `^` typed
alone still types after a moment."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widgets import Input

from tui.ui.paste_guard import PasteGuard
from tui.ui.widgets.text_field import TextField


class GuardApp(PasteGuard):
    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[str] = []

    def compose(self) -> ComposeResult:
        yield TextField(id="field")

    def on_input_submitted(self, message: Input.Submitted) -> None:
        self.submitted.append(message.value)


def parser_keys(text: str) -> list[events.Key]:
    """The keys Textual's parser sends for `text` read as an escape sequence inside a paste."""
    keys = []
    for char in text:
        if char == "\x1b":
            keys.append(events.Key("circumflex_accent", "^"))
        elif char == "\n":
            keys.append(events.Key("enter", "\r"))
        else:
            keys.append(events.Key(char, char))
    return keys


async def test_a_pasted_escape_sequence_neither_types_nor_submits() -> None:
    app = GuardApp()
    async with app.run_test() as pilot:
        field = app.query_one(TextField)
        field.focus()
        await pilot.pause()
        for key in parser_keys("\x1b[31m红色\n第三行"):
            app.post_message(key)
        app.post_message(events.Paste("第一行\n第二行"))
        await pilot.pause()
        await pilot.pause()
        assert field.value == "第一行 / 第二行红色 / 第三行"  # as pasted: `第二行\x1b[31m红色` one line
        assert app.submitted == []


async def test_a_caret_typed_alone_is_typed() -> None:
    app = GuardApp()
    async with app.run_test() as pilot:
        field = app.query_one(TextField)
        field.focus()
        await pilot.pause()
        await pilot.press("circumflex_accent", "a")
        await pilot.pause(0.5)  # after HOLD_FOR, no paste came: they were typed
        assert field.value == "^a"
