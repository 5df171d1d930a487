"""`DetailScreen`: one request in full — text, location, caller, units, callbacks, notes, what
waits in the outbox, conflicts, and the audit timeline from the server.

The request is read from the local store in a worker thread; the audit timeline is fetched from
the server (when reachable) in another; both arrive as messages. The app's transition keys act
on the request shown here. `p` reveals the caller's phone: the server records who saw it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from api_client.errors import HotlineError
from api_client.models import AuditEvent, Request
from local_cache.outbox import ConflictRecord, PendingAction
from tui.ui.detail_view import render_request
from tui.ui.messages import PhoneRevealed
from tui.ui.screens.base import AppScreen
from tui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    pass

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

    class Loaded(Message):
        def __init__(
            self, request: Request | None, pending: list[PendingAction], conflicts: list[ConflictRecord]
        ) -> None:
            super().__init__()
            self.request = request
            self.pending = pending
            self.conflicts = conflicts

    class AuditLoaded(Message):
        def __init__(self, events: list[AuditEvent] | None, error: str = "") -> None:
            super().__init__()
            self.events = events
            self.error = error

    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id
        self.request: Request | None = None
        self._pending: list[PendingAction] = []
        self._conflicts: list[ConflictRecord] = []
        self._audit: list[AuditEvent] | None = None
        self._audit_error = ""
        self.phone: str | None = None

    def compose(self) -> ComposeResult:
        app = self.hotline
        with VerticalScroll(id="detail-scroll"):
            yield Static(id="detail")
        yield StatusBar(
            app.strings,
            server=app.session.api_url,
            dispatcher=app.session.dispatcher,
            sync=app.session.can_sync,
        )
        yield Footer(compact=True, show_command_palette=False)  # fits 80 columns; ctrl+p is in help

    def on_mount(self) -> None:
        app = self.hotline
        app.rows_signal.subscribe(self, self._rows_changed)
        app.status_signal.subscribe(self, self._status_changed)
        if app.last_status is not None:
            self.query_one(StatusBar).status = app.last_status
        self.query_one("#detail-scroll").focus()
        self.load()
        self.load_audit()

    def current_request_id(self) -> str | None:
        return self.request_id

    # ----- loading ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="detail-load")
    def load(self) -> None:
        session = self.hotline.session
        request = session.view(self.request_id)
        pending = session.pending_for(self.request_id)
        conflicts = [c for c in session.conflicts() if c.action.request_id == self.request_id]
        self.post_message(self.Loaded(request, pending, conflicts))

    @work(exclusive=True, group="detail-audit")
    async def load_audit(self) -> None:
        client = self.hotline.client
        if client is None:
            self.post_message(self.AuditLoaded(None, self.hotline.strings("detail.audit_offline")))
            return
        try:
            events = await client.audit(self.request_id)
        except HotlineError as exc:
            self.post_message(self.AuditLoaded(None, exc.message))
            return
        self.post_message(self.AuditLoaded(events))

    def on_detail_screen_loaded(self, message: Loaded) -> None:
        self.request, self._pending, self._conflicts = message.request, message.pending, message.conflicts
        self.show()
        self.hotline.refresh_bindings()

    def on_detail_screen_audit_loaded(self, message: AuditLoaded) -> None:
        self._audit, self._audit_error = message.events, message.error
        self.show()

    def show(self) -> None:
        app = self.hotline
        detail = self.query_one("#detail", Static)
        if self.request is None:
            detail.update(app.strings("detail.not_cached", id=self.request_id))
            return
        detail.update(
            render_request(
                self.request,
                strings=app.strings,
                names=app.session.names,
                phone=self.phone,
                pending=self._pending,
                conflicts=self._conflicts,
                audit=self._audit,
                audit_error=self._audit_error,
                now=app.clock(),
            )
        )

    def _rows_changed(self, ids: Collection[str]) -> None:
        if self.request_id in ids:
            self.load()
            self.load_audit()

    def _status_changed(self, status: object) -> None:
        from local_cache.sync import SyncStatus

        if isinstance(status, SyncStatus):
            self.query_one(StatusBar).status = status

    # ----- actions ---------------------------------------------------------------------------

    def action_scroll(self, step: int) -> None:
        scroll = self.query_one("#detail-scroll", VerticalScroll)
        scroll.scroll_relative(y=step, animate=False)

    def action_reveal_phone(self) -> None:
        self.hotline.reveal_phone(self.request_id)

    def on_phone_revealed(self, message: PhoneRevealed) -> None:
        if message.request_id == self.request_id:
            self.phone = message.phone
            self.show()
