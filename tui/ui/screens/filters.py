"""The filter dialog (`f`) and the saved queues list (`v`).

`FilterDialog` narrows the current queue by words and by sets of categories, communities,
units, channels and tiers; with a name typed in "save as" it also saves the result as a named
queue. It dismisses with `(filter, save_as)` or None. `SavedQueuesDialog` picks a named queue.
Both only choose: the queues screen asks the app to save.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, SelectionList
from textual.widgets.option_list import Option

from api_client.domain.untrusted_text import one_line
from api_client.models import Channel, Tier
from tui.core.i18n import Strings
from tui.core.queue.filters import Filter
from tui.core.queue.rows import Names
from tui.core.saved_queues import SavedQueue
from tui.ui.keys import Translated
from tui.ui.widgets.choice_list import ChoiceList
from tui.ui.widgets.text_field import TextField

__all__ = ["FilterDialog", "SavedQueuesDialog"]

_FIELDS = ("categories", "communities", "units", "channels", "tiers")


class FilterDialog(Translated, ModalScreen[tuple[Filter, str] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "apply", "Apply", id="filters.apply"),
        Binding("escape", "cancel", "Cancel", id="filters.cancel"),
    ]
    DEFAULT_CSS = """
    FilterDialog {
        align: center middle;
        #filter-box { width: 90%; max-width: 100; height: 90%; border: round $accent;
                      background: $surface; padding: 0 1; }
        #filter-fields { height: 1fr; }
        ChoiceList { height: auto; max-height: 12; }
        Input { margin: 0; }
        Label { margin-top: 1; text-style: bold; }
        #filter-hint { color: $text-muted; margin: 0; width: 100%; height: auto; }
    }
    """

    def __init__(self, current: Filter, names: Names, strings: Strings) -> None:
        """`names`: the directory's categories, communities and units, in its order."""
        super().__init__()
        self._current = current
        self._names = names
        self._strings = strings

    def compose(self) -> ComposeResult:
        t, current = self._strings, self._current
        with Vertical(id="filter-box"):
            yield Label(t("filters.title"))
            yield Label(t("filters.hint"), id="filter-hint")
            with VerticalScroll(id="filter-fields"):
                yield Label(t("filters.text"))
                text = TextField(current.text, id="filter-text")
                text.cursor_blink = False
                yield text
                lists: dict[str, Sequence[tuple[str, str]]] = {
                    "categories": list(self._names.categories.items()),
                    "communities": list(self._names.communities.items()),
                    "units": list(self._names.units.items()),
                    "channels": [(c.value, t.channel(c)) for c in Channel],
                    "tiers": [(tier.value, t.tier(tier)) for tier in Tier],
                }
                for field in _FIELDS:
                    yield Label(t(f"filters.{field}"))
                    chosen: frozenset[str] = getattr(current, field)
                    yield ChoiceList(lists[field], chosen, id=f"filter-{field}")
                yield Label(t("filters.save_as"))
                name = TextField(placeholder=t("filters.save_as_placeholder"), id="filter-name")
                name.cursor_blink = False
                yield name

    def on_mount(self) -> None:
        self.query_one("#filter-text", Input).focus()

    def action_apply(self) -> None:
        values = {
            field: frozenset(self.query_one(f"#filter-{field}", SelectionList).selected) for field in _FIELDS
        }
        chosen = Filter(text=self.query_one("#filter-text", Input).value.strip(), **values)
        self.dismiss((chosen, self.query_one("#filter-name", Input).value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_apply()


class SavedQueuesDialog(Translated, ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="saved.cancel"),
    ]
    DEFAULT_CSS = """
    SavedQueuesDialog {
        align: center middle;
        #saved-box { width: 60; max-width: 90%; height: auto; max-height: 80%; border: round $accent;
                     background: $surface; padding: 0 1; }
        OptionList { height: auto; max-height: 16; }
    }
    """

    def __init__(self, queues: Sequence[SavedQueue], strings: Strings) -> None:
        super().__init__()
        self._queues = list(queues)
        self._strings = strings

    def compose(self) -> ComposeResult:
        with Vertical(id="saved-box"):
            yield Label(self._strings("saved.title"))
            yield OptionList(
                *(Option(Text(one_line(q.name)), id=str(i)) for i, q in enumerate(self._queues)),
                id="saved-list",
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._queues[event.option_index].name)

    def action_cancel(self) -> None:
        self.dismiss(None)
