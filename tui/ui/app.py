"""`HotlineApp`: the dispatcher's terminal app.

Its data, the sync and every row shown come from `SyncedApp`. Here are the keys and what they do,
and what screens ask (`tui.ui.asks`): the app owns every piece of IO, always off the UI thread, and
answers the screen that asked with a `tui.ui.messages` message.

- The transition keys live on the app and act on the current screen's request
  (`current_request_id()`) or on its marked requests; `check_action` hides those the
  request's state does not allow.
- An action: a dialog (when the action needs input), then `Session.record` in a thread (durable
  on disk), then `ActionRecorded`: only then does the UI say it is done, and the sync engine is
  woken to send it. A bulk action is recorded in one write for `BulkScreen`.
- Screens never import this module: they read the app as a `tui.ui.host.Host`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import SystemCommand
from textual.binding import BindingType
from textual.keys import format_key
from textual.screen import ModalScreen, Screen

from api_client.actions import Accept, Action, Merge, Unmerge
from api_client.domain.lifecycle import TransitionRefused
from api_client.domain.personal_data import lookup_digits, mask_lookup
from api_client.errors import HotlineError
from api_client.models import Request, State
from local_cache.errors import CacheError
from tui.core.error_words import describe
from tui.core.i18n import Strings
from tui.core.queue.layout import Column
from tui.core.report.analytics import build_report
from tui.core.report.fetch import fetch_server_numbers, read_local
from tui.core.report.files import report_path, write_private
from tui.core.report.render import to_markdown
from tui.core.session import BatchRecord, Session
from tui.ui.asks import (
    ActOnMany,
    BuildReport,
    DropConflict,
    ExportReport,
    FollowOutbox,
    ListConflicts,
    LoadAudit,
    LoadDetail,
    LookupCaller,
    MergeClusters,
    MergeInto,
    OpenDetail,
    RecordBatch,
    ResolveConflict,
    RetryConflict,
    RevealPhone,
    SaveQueue,
)
from tui.ui.global_keys import APP_BINDINGS, OWN_ACTIONS
from tui.ui.host import HasMarks, HasRequest
from tui.ui.intake_handlers import IntakeHandlers
from tui.ui.intake_opening import IntakeOpening
from tui.ui.knowledge_answering import KnowledgeAnswering
from tui.ui.messages import (
    ActionFailed,
    ActionRecorded,
    AuditLoaded,
    BatchRecorded,
    CallerLookedUp,
    ConflictResolved,
    ConflictsListed,
    DetailLoaded,
    OutboxProgress,
    PhoneRevealed,
    ReportBuilt,
    ReportExported,
    RowsChanged,
)
from tui.ui.paste_guard import PasteGuard
from tui.ui.synced_app import ClientFactory
from tui.ui.unit_guard import UnitGuard

if TYPE_CHECKING:
    from tui.ui.screens.transitions import BulkScope

__all__ = ["HotlineApp"]

#: The reason the app gives the server for a lookup typed in the queues' search.
LOOKUP_REASON = "search in the app"


class HotlineApp(PasteGuard, UnitGuard, IntakeOpening, IntakeHandlers, KnowledgeAnswering):
    TITLE = "hotline"
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"

    BINDINGS: ClassVar[list[BindingType]] = APP_BINDINGS

    CSS = """
    Screen { background: $surface; }
    Footer { height: 1; }
    ToastRack { margin-bottom: 2; }  /* over a dialog too: the status bar below stays readable */
    """

    def __init__(
        self,
        session: Session,
        *,
        strings: Strings | None = None,
        keymap: Mapping[str, str] | None = None,
        announce_urgent: bool = True,
        clock: Callable[[], float] = time.time,
        sync: bool = True,
        client_factory: ClientFactory | None = None,
        columns: Sequence[Column] | None = None,
    ) -> None:
        super().__init__(
            session,
            strings=strings,
            announce_urgent=announce_urgent,
            clock=clock,
            sync=sync,
            client_factory=client_factory,
        )
        if keymap:
            self.set_keymap(dict(keymap))
        self.columns = tuple(columns) if columns is not None else None  # the queue table's; None: by width

    def on_mount(self) -> None:
        """The queues first; `SyncedApp.on_mount` then loads the rows and starts the sync."""
        from tui.ui.screens.queues import QueuesScreen

        self.push_screen(QueuesScreen(self.columns))

    # ----- actions on a request --------------------------------------------------------------

    def current_request_id(self) -> str | None:
        screen = self.screen
        return screen.current_request_id() if isinstance(screen, HasRequest) else None

    def _current_state(self) -> State | None:
        request_id = self.current_request_id()
        if request_id is None:
            return None
        row = self.model.get(request_id)
        return row.state if row is not None else None

    def marked_ids(self) -> list[str]:
        screen = self.screen
        return screen.bulk_request_ids() if isinstance(screen, HasMarks) else []

    def _allows(self, request_id: str, name: str) -> bool:
        from tui.ui.screens.duplicates import transition_applies

        row = self.model.get(request_id)
        return row is not None and transition_applies(row, name) and self.unit_allows(name, row.lead_unit)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in OWN_ACTIONS and (isinstance(self.screen, ModalScreen) or self.asking()):
            # A dialog's keys are its own: `q` or `n` there must not quit or act; nor may a key
            # pressed while a dialog is being prepared (the request read off the UI thread) open
            # a second one behind it.
            return False
        if self.unit_forbids(action, parameters) is not None:
            return False  # hidden from a unit's login; its key says so (`UnitGuard.run_action`)
        if action == "transition":
            name = str(parameters[0]) if parameters else ""
            marked = self.marked_ids()
            if marked:  # a bulk action: shown when it applies to any marked request
                return any(self._allows(request_id, name) for request_id in marked)
            request_id = self.current_request_id()
            return request_id is not None and self._allows(request_id, name)
        if action == "merge":  # the marked requests into the one under the cursor
            parent = self.current_request_id()
            children = [r for r in self.marked_ids() if r != parent]
            return (
                parent is not None
                and bool(children)
                and self._current_state()
                not in (
                    State.merged,
                    State.closed,
                )
            )
        if action == "unmerge":
            return self._current_state() is State.merged
        if action == "answer":
            return not self.marked_ids() and self.answer_allowed()
        return True

    def asking(self) -> bool:
        """Whether an action's dialog is being prepared or shown (a worker of the group that asks)."""
        return any(worker.group == "transition" and not worker.is_finished for worker in self.workers)

    def action_transition(self, name: str) -> None:
        marked = self.marked_ids()
        if marked:
            self.bulk_transition(marked, name)
            return
        request_id = self.current_request_id()
        if request_id is not None:
            self.transition(request_id, name)

    @work(group="transition")
    async def bulk_transition(self, request_ids: list[str], name: str) -> None:
        """One dialog naming how many requests and how many are skipped (the action does not
        apply to them now), then the same action on every one it applies to."""
        applicable = [request_id for request_id in request_ids if self._allows(request_id, name)]
        if not applicable:
            return
        request = await asyncio.to_thread(self.session.view, applicable[0])
        if request is None:
            return
        from tui.ui.screens.transitions import BulkScope

        scope = BulkScope(len(applicable), len(request_ids) - len(applicable), applicable[0], name)
        action = await self._ask(request, name, scope=scope)
        if action is None:
            return
        title = self.strings("bulk.title", action=self.strings.action(name), n=len(applicable))
        self._start_bulk([(request_id, action) for request_id in applicable], title)

    def on_act_on_many(self, ask: ActOnMany) -> None:
        self.bulk_transition(ask.request_ids, ask.name)

    def action_merge(self) -> None:
        parent = self.current_request_id()
        children = [r for r in self.marked_ids() if r != parent]
        if parent is None or not children:
            return
        self.merge(parent, children)

    def merge(self, parent: str, children: list[str]) -> None:
        """并单: the marked requests become children of the one under the cursor (after a yes)."""
        question = self.strings("merge.title", n=len(children), parent=parent)
        self._merge([(parent, child) for child in children], question)

    def on_merge_into(self, ask: MergeInto) -> None:
        self.merge(ask.parent, ask.children)

    def on_merge_clusters(self, ask: MergeClusters) -> None:
        """Many clusters at once, after one confirmation."""
        self._merge(ask.pairs, self.strings("merge.all_title", n=len(ask.pairs), clusters=ask.clusters))

    @work(group="transition")
    async def _merge(self, pairs: list[tuple[str, str]], question: str) -> None:
        """Each child of the (parent, child) pairs into its parent, once the dispatcher says yes."""
        from tui.ui.screens.transitions import ConfirmDialog

        if not await self.push_screen_wait(ConfirmDialog(question, self.strings("merge.body"), self.strings)):
            return
        title = self.strings("bulk.title", action=self.strings.action("merge"), n=len(pairs))
        self._start_bulk([(child, Merge(parent_id=parent)) for parent, child in pairs], title)

    def action_unmerge(self) -> None:
        request_id = self.current_request_id()
        if request_id is not None:
            self.record(request_id, Unmerge())

    def _start_bulk(self, items: list[tuple[str, Action]], title: str) -> None:
        from tui.ui.screens.bulk import BulkScreen

        if any(self.unit_refuses(request_id, action.action) for request_id, action in items):
            return

        screen = self.screen
        if isinstance(screen, HasMarks):
            screen.clear_marks()
        self.push_screen(BulkScreen(items, title))

    @work(group="transition")
    async def transition(self, request_id: str, name: str) -> None:
        """Ask for what the action needs, then record it durably; say so when it is on disk."""
        request = await asyncio.to_thread(self.session.view, request_id)
        if request is None:
            self.say(self.strings("app.not_cached", id=request_id), severity="error")
            return
        action = await self._ask(request, name)
        if action is None:
            return
        self.record(request_id, action)

    async def _ask(self, request: Request, name: str, *, scope: BulkScope | None = None) -> Action | None:
        """The action `name` on `request` (or on the many of `scope`), from its dialog (None:
        cancelled). An action without a dialog (accept) is asked for as a yes/no when many."""
        from tui.ui.screens import dialogs
        from tui.ui.screens.transitions import ConfirmDialog

        if name == "accept":
            if scope is None:
                return Accept()
            question = self.strings("bulk.confirm", action=self.strings.action(name), n=scope.count)
            confirm = ConfirmDialog(question, "", self.strings, request=request, scope=scope)
            return Accept() if await self.push_screen_wait(confirm) else None
        units, suggested = self.session.units, self.session.suggested_units(request)
        coverage = self.session.coverage(request) if scope is None and name == "dispatch" else None
        dialog = dialogs.dialog_for(
            name, request, self.strings, units=units, suggested=suggested, scope=scope, coverage=coverage
        )
        if dialog is None:
            return None
        return await self.push_screen_wait(dialog)

    def record(self, request_id: str, action: Action) -> None:
        if not self.unit_refuses(request_id, action.action):
            self._record(request_id, action)

    @work(thread=True, group="record")
    def _record(self, request_id: str, action: Action) -> None:
        try:
            self.session.record(request_id, action)
        except TransitionRefused as exc:
            reason = describe(exc.code, exc.params, self.strings, str(exc))
            self.post_message(ActionFailed(request_id, action.action, reason))
            return
        except CacheError as exc:
            self.post_message(ActionFailed(request_id, action.action, str(exc)))
            return
        batch = self.session.rows_for([request_id])
        self.post_message(ActionRecorded(request_id, action.action, batch))

    def on_action_recorded(self, message: ActionRecorded) -> None:
        self.post_message(RowsChanged(message.batch, announce=False))
        online = self.last_status is not None and self.last_status.online
        key = "app.recorded" if online else "app.recorded_offline"
        if not (online and self._detail_shows(message.request_id)):  # its history shows the step
            self.say(self.strings(key, action=self.strings.action(message.action), id=message.request_id))
        self.send_soon()

    def _detail_shows(self, request_id: str) -> bool:
        from tui.ui.screens.detail import DetailScreen

        return isinstance(self.screen, DetailScreen) and self.screen.request_id == request_id

    def on_action_failed(self, message: ActionFailed) -> None:
        self.say(
            self.strings("app.refused", action=self.strings.action(message.action), reason=message.reason),
            severity="error",
            timeout=10,
        )

    # ----- a bulk action (`BulkScreen`) ------------------------------------------------------

    @work(group="bulk")
    async def on_record_batch(self, ask: RecordBatch) -> None:
        """A bulk action in one durable write; then the new states are shown and it is sent."""
        try:
            record = await asyncio.to_thread(self.session.record_batch, ask.items)
        except CacheError as exc:
            ask.answer(BatchRecorded(BatchRecord(), str(exc)))
            return
        self.touched([ask.items[index][0] for index in record.keys])
        ask.answer(BatchRecorded(record))

    @work(group="bulk-progress")
    async def on_follow_outbox(self, ask: FollowOutbox) -> None:
        ask.answer(OutboxProgress(await asyncio.to_thread(self.session.outbox_state)))

    # ----- conflicts -------------------------------------------------------------------------

    @work(group="conflicts")
    async def on_list_conflicts(self, ask: ListConflicts) -> None:
        ask.answer(ConflictsListed(await asyncio.to_thread(self.session.conflicts)))

    def on_retry_conflict(self, ask: RetryConflict) -> None:
        self._resolve_conflict(ask, self.session.retry_conflict, self.strings("conflicts.retried"))

    def on_drop_conflict(self, ask: DropConflict) -> None:
        self._resolve_conflict(ask, self.session.drop_conflict, self.strings("conflicts.dropped"))

    @work(group="conflicts")
    async def _resolve_conflict(
        self, ask: ResolveConflict, resolve: Callable[[str], None], done: str
    ) -> None:
        """Retry or drop a conflict in a thread; then show the request anew and send what waits."""
        try:
            await asyncio.to_thread(resolve, ask.conflict_id)
        except (TransitionRefused, CacheError) as exc:
            why = str(exc)
            if isinstance(exc, TransitionRefused):
                why = describe(exc.code, exc.params, self.strings, why)
            self.say(self.strings("conflicts.still", reason=why), severity="error")
            ask.answer(ConflictResolved(ask.request_id, ok=False))
            return
        self.say(done)
        self.touched([ask.request_id])
        ask.answer(ConflictResolved(ask.request_id, ok=True))

    # ----- one request -----------------------------------------------------------------------

    @work(group="detail")
    async def on_load_detail(self, ask: LoadDetail) -> None:
        ask.answer(DetailLoaded(await asyncio.to_thread(self.session.detail, ask.request_id)))

    @work(group="audit")
    async def on_load_audit(self, ask: LoadAudit) -> None:
        """The audit timeline from the server (offline: why there is none)."""
        client = self.client
        if client is None:
            ask.answer(AuditLoaded(None, self.strings("detail.audit_offline")))
            return
        try:
            events = await client.audit(ask.request_id)
        except HotlineError as exc:
            ask.answer(AuditLoaded(None, exc.message))
            return
        ask.answer(AuditLoaded(events))

    @work(group="reveal", exclusive=True)
    async def on_reveal_phone(self, ask: RevealPhone) -> None:
        """Ask the server for the caller's phone; it records who saw it."""
        request_id = ask.request_id
        if self.client is None or self.last_status is None or not self.last_status.online:
            self.say(self.strings("app.reveal_offline"), severity="warning")
            return
        try:
            reveal = await self.client.reveal_phone(request_id)
        except HotlineError as exc:
            reason = describe(exc.code, exc.params, self.strings, exc.message)
            self.say(self.strings("app.reveal_failed", reason=reason), severity="error")
            return
        ask.answer(PhoneRevealed(request_id, reveal.phone, reveal.name))

    @work(group="lookup", exclusive=True)
    async def on_lookup_caller(self, ask: LookupCaller) -> None:
        """Look the caller up by phone on the server, which records every lookup; say so."""
        digits = lookup_digits(ask.phone)
        if digits is None:
            return
        if self.client is None or self.last_status is None or not self.last_status.online:
            self.say(self.strings("app.lookup_offline"), severity="warning")
            return
        try:
            found = await self.client.lookup_caller(digits, reason=LOOKUP_REASON)
        except HotlineError as exc:
            reason = describe(exc.code, exc.params, self.strings, exc.message)
            self.say(self.strings("app.lookup_failed", reason=reason), severity="error")
            return
        shown = mask_lookup(digits)
        count = f"{len(found.requests)}+" if found.truncated else str(len(found.requests))
        self.say(self.strings("app.looked_up", phone=shown, n=count))
        ask.answer(CallerLookedUp(shown, [r.id for r in found.requests]))

    # ----- screens ---------------------------------------------------------------------------

    def on_open_detail(self, ask: OpenDetail) -> None:
        from tui.ui.screens.detail import DetailScreen

        self.push_screen(DetailScreen(ask.request_id))

    async def action_quit(self) -> None:
        """Quit; first ask when actions wait to be sent or conflicts are open (both stay on disk)."""
        self._quit_when_sure()

    @work(group="quit", exclusive=True)
    async def _quit_when_sure(self) -> None:
        from tui.ui.screens.transitions import ConfirmDialog

        status = self.last_status
        if status is not None and (status.pending or status.conflicts):
            body = self.strings("quit.body", pending=status.pending, conflicts=status.conflicts)
            if not await self.push_screen_wait(
                ConfirmDialog(self.strings("quit.question"), body, self.strings)
            ):
                return
        self.exit()

    def action_help_quit(self) -> None:
        """ctrl+c: say, in the interface's language, which key quits."""
        keys = [key for key, active in self.active_bindings.items() if active.binding.id == "app.quit"]
        keys = keys or [
            key for key, active in self.active_bindings.items() if active.binding.action == "quit"
        ]
        if keys:
            how = self.strings("quit.how", keys=" / ".join(format_key(key) for key in keys))
            self.notify(how, title=self.strings("quit.title"), markup=False)

    def action_help(self) -> None:
        from tui.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_dashboard(self) -> None:
        """The supervisor's dashboard (`b` again, or escape, goes back)."""
        from tui.ui.screens.dashboard import DashboardScreen

        if isinstance(self.screen, DashboardScreen):
            self.screen.dismiss()
        else:
            self.push_screen(DashboardScreen())

    def action_duplicates(self) -> None:
        from tui.ui.screens.duplicates import DuplicatesScreen

        self.push_screen(DuplicatesScreen())

    def action_conflicts(self) -> None:
        from tui.ui.screens.conflicts import ConflictsScreen

        self.push_screen(ConflictsScreen())

    # ----- files -----------------------------------------------------------------------------

    @work(group="saved")
    async def on_save_queue(self, ask: SaveQueue) -> None:
        try:
            await asyncio.to_thread(self.session.saved_queues.save, ask.queue)
        except CacheError as exc:
            self.say(str(exc), severity="error")
            return
        self.say(self.strings("app.queue_saved", name=ask.queue.name))

    @work(group="report", exclusive=True)
    async def on_build_report(self, ask: BuildReport) -> None:
        """The supervisor's report: the cache read in a thread, the rates from the server when
        online (`hotline report` builds the same)."""
        strings = self.strings
        now = datetime.fromtimestamp(self.clock(), UTC)
        local = await asyncio.to_thread(read_local, self.session.store)
        numbers = None
        reason = strings("status.offline") if self.session.can_sync else strings("status.no_sync")
        client = self.client
        if client is not None and self.last_status is not None and self.last_status.online:
            try:
                numbers = await fetch_server_numbers(client, now)
            except HotlineError as exc:
                reason = exc.message
        report = build_report(
            local,
            numbers,
            now=now,
            since=now - ask.shift,
            names=self.session.names,
            server_url=self.session.api_url,
            dispatcher=self.session.dispatcher,
            rates_missing=reason,
        )
        ask.answer(ReportBuilt(report))

    @work(group="report-export")
    async def on_export_report(self, ask: ExportReport) -> None:
        """The shift report as Markdown in the user's data dir (private: it names addresses)."""
        report = ask.report
        path = report_path(report.generated_at)

        def write() -> None:
            write_private(path, to_markdown(report, self.strings) + "\n")

        try:
            await asyncio.to_thread(write)
        except OSError as exc:
            failed = self.strings("dashboard.export_failed", reason=exc.strerror or str(exc))
            self.say(failed, severity="error")
            return
        self.say(self.strings("dashboard.exported", path=str(path)), timeout=15)
        ask.answer(ReportExported(path))

    def action_command_palette(self) -> None:
        """The command palette (`tui.ui.palette`), made for the screen it opens over."""
        from tui.ui.palette import open_palette

        open_palette(self)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: every action of the app, with its key."""
        from tui.ui.palette import app_commands

        yield from app_commands(self, screen)
