"""The knowledge picker (知识库): find the entry to answer an enquiry with, by keyboard alone.

    entry = await app.push_screen_wait(KnowledgePicker(query=description, category=code))

The call-taker types (Chinese words, pinyin or initials: `tui.core.knowledge_search`) while ↑/↓
move the highlight; the highlighted entry's answer is shown below as written (it is read out to
the citizen). Enter picks it, only when it is in force today: an expired, not yet valid or
withdrawn entry is shown, marked, and never chosen. Escape cancels. It works offline from the
cached knowledge base, which it asks the app for (`LoadKnowledge`); it dismisses with the
`KnowledgeEntry` picked or None.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from api_client.knowledge import KnowledgeEntry
from tui.core.i18n import Strings
from tui.core.knowledge_search import KnowledgeIndex
from tui.ui.knowledge_asks import KnowledgeLoaded, LoadKnowledge
from tui.ui.screens.base import AppScreen
from tui.ui.screens.transitions import DIALOG_CSS, key_hint
from tui.ui.text import fit, literal
from tui.ui.widgets.text_field import TextField

__all__ = ["SHOWN", "KnowledgePicker", "status_key"]

#: How many entries the list shows at most.
SHOWN = 20


def status_key(entry: KnowledgeEntry, today: date) -> str:
    """The words' key of whether `entry` may answer today, and why not."""
    if entry.withdrawn:
        return "knowledge.withdrawn"
    if entry.valid_from is not None and today < entry.valid_from:
        return "knowledge.not_yet"
    if entry.valid_until is not None and entry.valid_until < today:
        return "knowledge.expired"
    return "knowledge.in_force"


class KnowledgePicker(AppScreen, ModalScreen[KnowledgeEntry | None]):
    """Dismisses with the entry picked (in force today) or None."""

    DEFAULT_CSS = f"""
    KnowledgePicker {{ {DIALOG_CSS} }}
    KnowledgePicker > #dialog {{ height: 100%; max-height: 40; }}
    KnowledgePicker #query {{ margin-bottom: 0; }}
    KnowledgePicker #matches {{ height: auto; max-height: 8; border: none; padding: 0; }}
    KnowledgePicker #answer-scroll {{ height: 1fr; min-height: 3; margin-top: 1; }}
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="knowledge.cancel"),
        Binding("up", "move('cursor_up')", "Up", show=False, id="knowledge.cursor_up"),
        Binding("down", "move('cursor_down')", "Down", show=False, id="knowledge.cursor_down"),
        Binding("pageup", "scroll_answer(-1)", "Page up", show=False, id="knowledge.page_up"),
        Binding("pagedown", "scroll_answer(1)", "Page down", show=False, id="knowledge.page_down"),
    ]

    def __init__(self, query: str = "", category: str | None = None) -> None:
        super().__init__()
        self.initial_query = query
        self.category = category
        self.index: KnowledgeIndex | None = None
        self.today: date | None = None
        self.matches: list[KnowledgeEntry] = []

    @property
    def strings(self) -> Strings:
        return self.host.strings

    def compose(self) -> ComposeResult:
        t = self.strings
        with Vertical(id="dialog"):
            yield Label(t("knowledge.title"), id="title")
            query = TextField(
                self.initial_query, placeholder=t("knowledge.search"), id="query", select_on_focus=False
            )
            query.cursor_blink = False
            yield query
            matches = OptionList(id="matches", markup=False)
            matches.can_focus = False
            yield matches
            with VerticalScroll(id="answer-scroll", can_focus=False):
                yield Static(t("knowledge.loading"), id="answer", markup=False)
            yield Static("", id="error", classes="error", markup=False)
            yield Static("", id="hint", classes="hint", markup=False)

    def on_mount(self) -> None:
        hint = self.strings(
            "knowledge.hint",
            pick=self.app.get_key_display(Binding("enter", "")),
            cancel=key_hint(self, "knowledge.cancel"),
        )
        self.query_one("#hint", Static).update(Text(hint))
        self.query_one("#query", Input).focus()
        self.post_message(LoadKnowledge(self))

    def on_knowledge_loaded(self, message: KnowledgeLoaded) -> None:
        self.index, self.today = message.index, message.today
        if self.index is None:
            self.query_one("#answer", Static).update(self.strings("knowledge.none_cached"))
            return
        self._search(self.query_one("#query", Input).value)

    # ------------------------------------------------------------------ searching

    @on(Input.Changed, "#query")
    def _typed(self, event: Input.Changed) -> None:
        self._show_error("")
        self._search(event.value)

    def _search(self, query: str) -> None:
        if self.index is None or self.today is None:
            return
        self.matches = self.index.search(query, today=self.today, category=self.category, limit=SHOWN)
        options = self.query_one("#matches", OptionList)
        if not self.matches:
            options.set_options(
                [Option(Text(self.strings("knowledge.no_match"), style="italic"), disabled=True)]
            )
            self._show_entry(None)
            return
        options.set_options(Option(self._prompt(entry), id=entry.id) for entry in self.matches)
        options.highlighted = 0
        self._show_entry(self.matches[0])

    def _prompt(self, entry: KnowledgeEntry) -> Text:
        assert self.today is not None
        key = status_key(entry, self.today)
        usable = key == "knowledge.in_force"
        return Text.assemble(
            (fit(self.strings(key), 9), "green" if usable else "bold red"),
            " ",
            literal(entry.title, "" if usable else "dim strike"),
            "  ",
            literal(entry.owner, "dim"),
            end="",
        )

    @on(OptionList.OptionHighlighted, "#matches")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        index = event.option_index
        self._show_entry(self.matches[index] if 0 <= index < len(self.matches) else None)

    def _show_entry(self, entry: KnowledgeEntry | None) -> None:
        answer = self.query_one("#answer", Static)
        if entry is None or self.today is None:
            answer.update("")
            return
        t = self.strings
        open_end = t("knowledge.open_end")
        valid = t(
            "knowledge.valid",
            valid_from=entry.valid_from.isoformat() if entry.valid_from else open_end,
            valid_until=entry.valid_until.isoformat() if entry.valid_until else open_end,
        )
        if entry.valid_from is None and entry.valid_until is None:
            valid = t("knowledge.valid_always")
        lines = Text(end="")
        lines.append_text(literal(entry.title, "bold"))
        lines.append(f"  {t(status_key(entry, self.today))}\n", "bold")
        if entry.owner:
            lines.append_text(literal(t("knowledge.owner", owner=entry.owner), "dim"))
            lines.append("  ")
        lines.append(f"{valid}\n", "dim")
        lines.append_text(literal(entry.answer, multiline=True))
        answer.update(lines)
        self.query_one("#answer-scroll", VerticalScroll).scroll_home(animate=False)

    # ------------------------------------------------------------------ keys

    def action_move(self, how: str) -> None:
        getattr(self.query_one("#matches", OptionList), f"action_{how}")()

    def action_scroll_answer(self, pages: int) -> None:
        scroll = self.query_one("#answer-scroll", VerticalScroll)
        scroll.scroll_relative(y=pages * max(1, scroll.size.height - 1), animate=False)

    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_pick()

    def action_pick(self) -> None:
        """Pick the highlighted entry, when it is in force today."""
        highlighted = self.query_one("#matches", OptionList).highlighted
        if highlighted is None or not self.matches or self.today is None:
            self._show_error(self.strings("knowledge.no_match"))
            return
        entry = self.matches[highlighted]
        key = status_key(entry, self.today)
        if key != "knowledge.in_force":
            self._show_error(
                self.strings("knowledge.cannot_cite", title=entry.title, status=self.strings(key))
            )
            return
        self.dismiss(entry)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _show_error(self, text: str) -> None:
        self.query_one("#error", Static).update(literal(text))
