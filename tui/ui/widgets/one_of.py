"""`OneOf`: a row of choices with one chosen, picked by a key (a digit or a letter) or moved with
←/→ (space moves on too): the intake form's channel, type and vulnerable flag. The chosen one is
in brackets, so it reads without colour."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import Static

__all__ = ["OneOf"]


class OneOf(Static, can_focus=True):
    """A row of choices with one chosen: a key picks (`keys`), ←/→ move."""

    class Picked(Message):
        def __init__(self, row: OneOf) -> None:
            super().__init__()
            self.row = row

    def __init__(
        self,
        choices: Sequence[tuple[object, str, str]],
        value: object,
        keys: Mapping[str, object],
        *,
        id: str,
    ) -> None:
        """`choices`: (value, label, the key shown before it); `keys`: the keys that pick a value."""
        super().__init__(id=id, markup=False)
        self.choices = list(choices)
        self.value = value
        self.picks = dict(keys)

    def on_mount(self) -> None:
        self.update(self.render_choices())

    def render_choices(self) -> Text:
        out = Text(end="", no_wrap=True, overflow="ellipsis")
        for value, label, key in self.choices:
            if value == self.value:  # brackets: read without colour too
                out.append(f"[{key}{label}]", "bold reverse")
            else:
                out.append(f" {key}{label} ")
        return out

    def relabel(self, value: object, label: str) -> None:
        """Show `value` as `label` from now on."""
        self.choices = [(v, label if v == value else shown, key) for v, shown, key in self.choices]
        self.update(self.render_choices())

    def choose(self, value: object) -> None:
        self.value = value
        self.update(self.render_choices())
        self.post_message(self.Picked(self))

    def on_key(self, event: events.Key) -> None:
        values = [value for value, _, _ in self.choices]
        if event.key in ("left", "right", "space"):
            at = values.index(self.value) if self.value in values else 0
            step = -1 if event.key == "left" else 1
            self.choose(values[(at + step) % len(values)])
        elif event.character is not None and event.character.lower() in self.picks:
            self.choose(self.picks[event.character.lower()])
        else:
            return
        event.stop()
        event.prevent_default()
