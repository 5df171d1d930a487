"""`BulkScreen`: one action on many requests — recorded together, then followed to the server.

All the actions are written to the outbox in one durable write (`LocalStore.record_batch`): a
crash or a closed terminal leaves either all of them queued or none, never half a bulk action;
queued ones are sent by the sync engine whenever it runs, also after a restart. Each item gets a
result line: refused here (the rules, with the reason), queued, sent, or a conflict. The progress
bar counts the items the server has answered. Escape closes the screen; sending goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, ProgressBar
from textual.widgets.option_list import Option

from api_client.actions import Action
from api_client.domain.untrusted_text import one_line
from local_cache.errors import CacheError
from tui.ui.screens.base import AppScreen

if TYPE_CHECKING:
    pass

__all__ = ["BulkScreen"]

#: How often the screen looks at what the server has answered.
POLL = 0.5


class BulkScreen(AppScreen, ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="bulk.close"),
    ]
    DEFAULT_CSS = """
    BulkScreen {
        align: center middle;
        #bulk-box { width: 90%; max-width: 100; height: 90%; border: round $accent;
                    background: $surface; padding: 0 1; }
        #bulk-title { text-style: bold; }
        ProgressBar { margin: 1 0; }
        #bulk-items { height: 1fr; }
    }
    """

    class Recorded(Message):
        def __init__(self, keys: dict[int, str], refused: dict[int, str], error: str = "") -> None:
            super().__init__()
            self.keys = keys  # item index -> outbox key
            self.refused = refused  # item index -> reason
            self.error = error

    class Progress(Message):
        def __init__(self, pending: set[str], conflicts: dict[str, str]) -> None:
            super().__init__()
            self.pending = pending
            self.conflicts = conflicts  # outbox key -> message

    def __init__(self, items: Sequence[tuple[str, Action]], title: str) -> None:
        super().__init__()
        self.items = list(items)
        self.title_text = title
        self.keys: dict[int, str] = {}
        self.refused: dict[int, str] = {}
        self.results: list[str] = ["" for _ in self.items]
        self._shown: list[str] = []
        self.done = False

    def compose(self) -> ComposeResult:
        with Vertical(id="bulk-box"):
            yield Label(Text(self.title_text), id="bulk-title")
            yield ProgressBar(total=len(self.items), show_eta=False, id="bulk-progress")
            yield Label("", id="bulk-summary")
            yield OptionList(id="bulk-items")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.record()

    @work(thread=True, group="bulk-record")
    def record(self) -> None:
        try:
            recorded, refused = self.hotline.session.record_batch(self.items)
        except CacheError as exc:
            self.post_message(self.Recorded({}, {}, str(exc)))
            return
        refused_at = dict(refused)
        keys: dict[int, str] = {}
        taken = iter(recorded)
        for index in range(len(self.items)):
            if index not in refused_at:
                keys[index] = next(taken).key
        self.post_message(self.Recorded(keys, refused_at))

    def on_bulk_screen_recorded(self, message: Recorded) -> None:
        strings = self.hotline.strings
        if message.error:
            self.query_one("#bulk-summary", Label).update(Text(strings("bulk.failed", reason=message.error)))
            self.done = True
            return
        self.keys, self.refused = message.keys, message.refused
        for index, reason in self.refused.items():
            self.results[index] = strings("bulk.refused", reason=one_line(reason))
        for index in self.keys:
            self.results[index] = strings("bulk.queued")
        self.hotline.bulk_recorded([self.items[i][0] for i in self.keys])
        self._show()
        self.set_interval(POLL, self.poll)

    @work(thread=True, exclusive=True, group="bulk-poll")
    def poll(self) -> None:
        store = self.hotline.session.store
        pending = {action.key for action in store.pending()}
        conflicts = {record.action.key: record.message for record in store.conflicts()}
        self.post_message(self.Progress(pending, conflicts))

    def on_bulk_screen_progress(self, message: Progress) -> None:
        strings = self.hotline.strings
        for index, key in self.keys.items():
            if key in message.conflicts:
                self.results[index] = strings("bulk.conflict", reason=one_line(message.conflicts[key]))
            elif key not in message.pending:
                self.results[index] = strings("bulk.sent")
        self._show()

    def _answered(self) -> int:
        strings = self.hotline.strings
        waiting = strings("bulk.queued")
        return sum(1 for index in self.keys if self.results[index] != waiting)

    def _show(self) -> None:
        strings = self.hotline.strings
        answered = self._answered()
        self.query_one(ProgressBar).update(total=max(len(self.keys), 1), progress=answered)
        self.done = answered == len(self.keys)
        summary = strings(
            "bulk.summary",
            total=len(self.items),
            queued=len(self.keys),
            refused=len(self.refused),
            answered=answered,
        )
        self.query_one("#bulk-summary", Label).update(Text(summary))
        if self.results == self._shown:
            return
        self._shown = list(self.results)
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(
            Option(Text(f"{one_line(request_id)}  {self.results[index]}"))
            for index, (request_id, _action) in enumerate(self.items)
        )
        if highlighted is not None and self.items:
            options.highlighted = min(highlighted, len(self.items) - 1)
