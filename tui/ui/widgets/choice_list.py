"""`ChoiceList`: a list of things to choose several of (the filter dialog's categories,
communities, units, channels, tiers), usable by keyboard alone and without colour.

- each row starts with `[x]` or `[ ]`, so what is chosen reads the same under `NO_COLOR`;
- typing letters moves to the first row whose name, pinyin or pinyin initials start with them
  (`dsl` → 德胜里社区; the typed letters are forgotten after `TYPE_AHEAD_SECONDS`);
- `ctrl+a` chooses every row, or none when all are chosen; space toggles the highlighted row.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import ClassVar, Final

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import SelectionList
from textual.widgets.selection_list import Selection

from api_client.domain.untrusted_text import one_line
from tui.core.pinyin import spellings

__all__ = ["TYPE_AHEAD_SECONDS", "ChoiceList"]

#: Letters typed within this many seconds of each other form one type-ahead query.
TYPE_AHEAD_SECONDS: Final = 1.0


class ChoiceList(SelectionList[str]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+a", "toggle_all", "Choose all / none", show=False, id="choices.toggle_all"),
    ]

    def __init__(self, choices: Iterable[tuple[str, str]], chosen: frozenset[str], *, id: str) -> None:
        """`choices`: (value, label) pairs in the order shown; `chosen`: the values chosen now."""
        self._labels = {value: one_line(label) for value, label in choices}
        self._typed = ""
        self._typed_at = 0.0
        super().__init__(
            *(
                Selection(self._prompt(value, value in chosen), value, value in chosen)
                for value in self._labels
            ),
            id=id,
        )

    def _prompt(self, value: str, chosen: bool) -> Text:
        return Text(f"{'[x]' if chosen else '[ ]'} {self._labels[value]}")

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        chosen = set(self.selected)
        for index, value in enumerate(self._labels):
            self.replace_option_prompt_at_index(index, self._prompt(value, value in chosen))

    def action_toggle_all(self) -> None:
        if len(self.selected) == len(self._labels):
            self.deselect_all()
        else:
            self.select_all()

    def on_key(self, event: events.Key) -> None:
        character = event.character
        if character is None or not character.isalnum() or not character.isprintable():
            return
        now = time.monotonic()
        self._typed = (self._typed if now - self._typed_at <= TYPE_AHEAD_SECONDS else "") + character.lower()
        self._typed_at = now
        for index, label in enumerate(self._labels.values()):
            if _starts_with(label, self._typed):
                self.highlighted = index
                event.stop()
                return


def _starts_with(label: str, typed: str) -> bool:
    """Whether `label` (or its pinyin, or its initials) starts with `typed`."""
    if label.lower().startswith(typed):
        return True
    spelled, initials = spellings(label)
    return spelled.startswith(typed) or initials.startswith(typed)
