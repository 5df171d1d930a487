"""`ConflictsScreen`: actions the server would not apply as they were, waiting for the dispatcher.

A *stale* conflict: someone changed the request first (our version was old). A *refused* one:
the server's rules refused the action. Each shows the action, the server's words, who changed the
request meanwhile and what they did (the server's history past the version acted on), and the
request as the server has it now. The dispatcher retries it on the server's version (`r`), drops it
(`x`, after a confirmation) or opens the request (`enter`). Nothing is resolved automatically.
The list, the retry and the drop are asked of the app (`tui.ui.asks`).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from api_client.domain.untrusted_text import one_line
from api_client.models import State, Step
from local_cache.outbox import ConflictRecord
from tui.core.error_words import describe
from tui.core.i18n import Strings
from tui.core.queue.rows import Names
from tui.ui.asks import DropConflict, ListConflicts, OpenDetail, RetryConflict
from tui.ui.detail_view import step_line
from tui.ui.messages import ConflictResolved, ConflictsListed
from tui.ui.screens.base import AppScreen
from tui.ui.widgets.fitting_footer import FittingFooter

__all__ = ["ConflictsScreen", "describe_conflict", "steps_since"]

#: The most steps of others a conflict shows (the newest).
SHOWN_STEPS = 3


def describe_conflict(record: ConflictRecord, strings: Strings, names: Names | None = None) -> Text:
    """What was refused and why; who changed the request meanwhile and what they did (a line a
    step, the newest `SHOWN_STEPS`); where the request stands on the server."""
    action = record.action
    out = Text(end="")
    out.append(f"⚠ {one_line(action.request_id)} ", "bold")
    out.append(f"{strings.action(action.action.action)} · {strings(f'conflicts.{record.kind}')}\n")
    out.append(f"  {describe(record.code, record.params, strings, record.message)}\n", "italic")
    steps = steps_since(record)
    if steps:
        by = strings.join(dict.fromkeys(one_line(step.by) or strings("history.system") for step, _ in steps))
        out.append(f"  {strings('error.version_mismatch_by', by=by)}\n")
        for step, before in steps[-SHOWN_STEPS:]:
            out.append(f"    {step_line(step, before, strings, names or Names())}\n")
    mine = strings.state(record.local.state) if record.local else "-"
    theirs = strings.state(record.server.state) if record.server else "-"
    out.append(f"  {strings('conflicts.versions', mine=mine, theirs=theirs)}")
    return out


def steps_since(record: ConflictRecord) -> list[tuple[Step, State | None]]:
    """The steps of the server's history that the version acted on did not have, each with the
    state it started from."""
    if record.server is None:
        return []
    known = {(s.at, s.by, s.action) for s in record.local.history} if record.local else set()
    history = record.server.history
    return [
        (step, history[index - 1].state if index else None)
        for index, step in enumerate(history)
        if (step.at, step.by, step.action) not in known
    ]


class ConflictsScreen(AppScreen, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="conflicts.back"),
        Binding("r", "retry", "Retry", id="conflicts.retry"),
        Binding("x", "drop", "Drop", id="conflicts.drop"),
        Binding("enter", "open", "Open", id="conflicts.open"),
    ]

    DEFAULT_CSS = """
    ConflictsScreen {
        #conflicts-title { height: 1; padding: 0 1; text-style: bold; }
        #conflicts { height: 1fr; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.records: list[ConflictRecord] = []

    def compose(self) -> ComposeResult:
        yield Static(self.host.strings("conflicts.title"), id="conflicts-title")
        yield OptionList(id="conflicts")
        yield FittingFooter()

    def on_mount(self) -> None:
        self.host.rows_signal.subscribe(self, lambda _ids: self.load())
        self.query_one(OptionList).focus()
        self.load()

    def current_request_id(self) -> str | None:
        record = self._selected()
        return record.action.request_id if record else None

    def load(self) -> None:
        self.post_message(ListConflicts(self))

    def on_conflicts_listed(self, message: ConflictsListed) -> None:
        self.records = message.records
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        strings = self.host.strings
        if not self.records:
            options.add_option(Option(Text(strings("conflicts.none"), style="dim"), disabled=True))
            return
        names = self.host.names
        options.add_options(Option(describe_conflict(r, strings, names), id=r.id) for r in self.records)
        options.highlighted = min(highlighted or 0, len(self.records) - 1)

    def _selected(self) -> ConflictRecord | None:
        index = self.query_one(OptionList).highlighted
        if index is None or not self.records or index >= len(self.records):
            return None
        return self.records[index]

    def action_open(self) -> None:
        record = self._selected()
        if record is not None:
            self.post_message(OpenDetail(record.action.request_id))

    def action_retry(self) -> None:
        record = self._selected()
        if record is not None:
            self.post_message(RetryConflict(self, record.id, record.action.request_id))

    def action_drop(self) -> None:
        from tui.ui.screens.transitions import ConfirmDialog

        record = self._selected()
        if record is None:
            return
        strings = self.host.strings

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.post_message(DropConflict(self, record.id, record.action.request_id))

        self.app.push_screen(
            ConfirmDialog(
                strings("conflicts.drop_title"),
                strings("conflicts.drop_body", action=strings.action(record.action.action.action)),
                strings,
            ),
            confirmed,
        )

    def on_conflict_resolved(self, _message: ConflictResolved) -> None:
        self.load()

    @on(OptionList.OptionSelected)
    def _chosen(self) -> None:
        self.action_open()
