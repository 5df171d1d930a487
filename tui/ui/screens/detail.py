"""`DetailScreen`: one request in full — text, location, caller, units, what waits in the
outbox, conflicts, and its history (who, when, what, why), read offline from the cache.

The screen asks the app for the request as cached (`LoadDetail`); for a request stored before
requests kept their history, also for its audit timeline from the server (`LoadAudit`); both
arrive as messages. The app's transition keys act on the request shown here. `p` reveals the
caller's phone and name (`RevealPhone`): the server records who saw them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from api_client.models import AuditEvent, Request
from local_cache.outbox import ConflictRecord, PendingAction
from tui.ui.asks import LoadAudit, LoadDetail, RevealPhone
from tui.ui.detail_view import has_full_history, render_request
from tui.ui.messages import AuditLoaded, DetailLoaded, PhoneRevealed
from tui.ui.screens.base import AppScreen
from tui.ui.widgets.fitting_footer import FittingFooter
from tui.ui.widgets.status_bar import StatusBar

__all__ = ["DetailScreen"]


class DetailScreen(AppScreen, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="detail.back"),
        Binding("p", "reveal_phone", "Reveal phone", id="detail.reveal_phone"),
        Binding("j,down", "scroll(1)", "Down", show=False, id="detail.scroll_down"),
        Binding("k,up", "scroll(-1)", "Up", show=False, id="detail.scroll_up"),
    ]

    DEFAULT_CSS = """
    DetailScreen {
        #detail-scroll { height: 1fr; padding: 0 1; }
        #detail { width: 1fr; }
        ToastRack { margin-bottom: 2; }  /* notifications above the status bar, not over it */
    }
    """

    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id
        self.request: Request | None = None
        self._actions: list[PendingAction] = []
        self._conflicts: list[ConflictRecord] = []
        self._audit: list[AuditEvent] | None = None
        self._audit_error = ""
        self._merged: list[Request] = []  # the requests merged into it: their callers are listed
        self._answered_title: str | None = None  # the knowledge-base entry's, when answered directly
        self.phone: str | None = None  # the caller's, once revealed
        self.caller_name: str | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-scroll"):
            yield Static(id="detail")
        yield StatusBar()
        yield FittingFooter()

    def on_mount(self) -> None:
        self.host.rows_signal.subscribe(self, self._rows_changed)
        self.query_one("#detail-scroll").focus()
        self.load()

    def current_request_id(self) -> str | None:
        return self.request_id

    # ----- loading ---------------------------------------------------------------------------

    def load(self) -> None:
        self.post_message(LoadDetail(self, self.request_id))

    def load_audit(self) -> None:
        self.post_message(LoadAudit(self, self.request_id))

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        detail = message.detail
        self.request, self._actions, self._conflicts = detail.request, detail.pending, detail.conflicts
        self._merged = detail.merged
        self._answered_title = detail.answered_title
        self.show()
        self.app.refresh_bindings()
        if self.request is not None and not has_full_history(self.request):
            self.load_audit()  # the steps before it kept its history are the server's

    def on_audit_loaded(self, message: AuditLoaded) -> None:
        self._audit, self._audit_error = message.events, message.error
        self.show()

    def show(self) -> None:
        host = self.host
        detail = self.query_one("#detail", Static)
        if self.request is None:
            detail.update(host.strings("detail.not_cached", id=self.request_id))
            return
        detail.update(
            render_request(
                self.request,
                strings=host.strings,
                names=host.names,
                phone=self.phone,
                name=self.caller_name,
                pending=self._actions,
                conflicts=self._conflicts,
                audit=self._audit,
                audit_error=self._audit_error,
                now=host.clock(),
                width=self.text_width(),
                merged=self._merged,
                answered_title=self._answered_title,
            )
        )

    def text_width(self) -> int | None:
        """The cells a line of the detail has, whether or not the scroll bar shows (None before
        the first layout)."""
        scroll = self.query_one("#detail-scroll", VerticalScroll)
        width = scroll.size.width - scroll.styles.gutter.width - scroll.styles.scrollbar_size_vertical
        return width if width > 0 else None

    def on_resize(self) -> None:
        if self.request is not None:
            self.show()

    def _rows_changed(self, ids: Collection[str]) -> None:
        if self.request_id in ids:
            self.load()

    # ----- actions ---------------------------------------------------------------------------

    def action_scroll(self, step: int) -> None:
        scroll = self.query_one("#detail-scroll", VerticalScroll)
        scroll.scroll_relative(y=step, animate=False)

    def action_reveal_phone(self) -> None:
        self.post_message(RevealPhone(self, self.request_id))

    def on_phone_revealed(self, message: PhoneRevealed) -> None:
        if message.request_id == self.request_id:
            self.phone, self.caller_name = message.phone, message.name
            self.show()
