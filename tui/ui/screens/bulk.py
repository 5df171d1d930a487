"""`BulkScreen`: one action on many requests — recorded together, then followed to the server.

All the actions are written to the outbox in one durable write (`LocalStore.record_batch`): a
crash or a closed terminal leaves either all of them queued or none, never half a bulk action;
queued ones are sent by the sync engine whenever it runs, also after a restart. Each item gets a
result line: refused here (the rules, with the reason), queued, sent, or a conflict. The progress
bar counts the items the server has answered. Escape closes the screen; sending goes on. The
write and the outbox's progress are asked of the app (`RecordBatch`, `FollowOutbox`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, ProgressBar
from textual.widgets.option_list import Option

from api_client.actions import Action
from api_client.domain.untrusted_text import one_line
from local_cache.outbox import Refusal
from tui.core.error_words import describe
from tui.ui.asks import FollowOutbox, RecordBatch
from tui.ui.messages import BatchRecorded, OutboxProgress
from tui.ui.screens.base import AppScreen

__all__ = ["BulkScreen"]

#: How long the screen waits between two looks at what the server has answered.
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

    def __init__(self, items: Sequence[tuple[str, Action]], title: str) -> None:
        super().__init__()
        self.items = list(items)
        self.title_text = title
        self.keys: dict[int, str] = {}  # item index -> outbox key
        self.refused: dict[int, Refusal] = {}  # item index -> why
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
        self.post_message(RecordBatch(self, self.items))

    def on_batch_recorded(self, message: BatchRecorded) -> None:
        strings = self.host.strings
        if message.error:
            failed = one_line(strings("bulk.failed", reason=message.error))
            self.query_one("#bulk-summary", Label).update(Text(failed))
            self.done = True
            return
        self.keys, self.refused = message.record.keys, message.record.refused
        for index, reason in self.refused.items():
            said = describe(reason.code, reason.params, strings, reason.message)
            self.results[index] = strings("bulk.refused", reason=said)
        for index in self.keys:
            self.results[index] = strings("bulk.queued")
        self._show()
        self.set_timer(POLL, self.poll)

    def poll(self) -> None:
        self.post_message(FollowOutbox(self))

    def on_outbox_progress(self, message: OutboxProgress) -> None:
        strings = self.host.strings
        state = message.state
        for index, key in self.keys.items():
            if key in state.conflicts:
                record = state.conflicts[key]
                said = describe(record.code, record.params, strings, record.message)
                self.results[index] = strings("bulk.conflict", reason=said)
            elif key not in state.pending:
                self.results[index] = strings("bulk.sent")
        self._show()
        self.set_timer(POLL, self.poll)  # the next look once this one is answered

    def _answered(self) -> int:
        strings = self.host.strings
        waiting = strings("bulk.queued")
        return sum(1 for index in self.keys if self.results[index] != waiting)

    def _show(self) -> None:
        strings = self.host.strings
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
