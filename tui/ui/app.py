"""`HotlineApp`: the dispatcher's terminal app.

The app owns the data the screens show and every piece of IO, always off the UI thread:

- the `Session` (local store, directory, saved queues) — read and written in thread workers;
- the `QueueModel` of every cached request, built in a thread at start-up and kept current from
  `RowsChanged` messages;
- the sync engine, run as an async worker on the app's loop: its status and the ids it changed
  come back as `SyncStatusChanged` and (after the rows are rebuilt in a thread) `RowsChanged`;
- dispatcher actions: a dialog (when the action needs input), then `Session.record` in a thread
  (durable on disk), then `ActionRecorded`: only then does the UI say it is done, and the sync
  engine is woken to send it.

Screens subscribe to `rows_signal` (ids of changed requests) and `status_signal` (SyncStatus).
The transition keys live here, on the app, and act on the current screen's request
(`current_request_id()`); `check_action` hides those the request's state does not allow.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import ClassVar, Protocol, runtime_checkable

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.signal import Signal
from textual.timer import Timer

from api_client.actions import Accept, Action, Merge, Unmerge
from api_client.client import HotlineClient
from api_client.domain.lifecycle import ALLOWED_FROM, TransitionRefused
from api_client.errors import HotlineError
from api_client.models import Request, State, Tier
from local_cache.directory import fetch_directory
from local_cache.errors import CacheError
from local_cache.sync import SyncEngine, SyncStatus
from tui.core.collector import CollectorPolicy
from tui.core.i18n import Strings
from tui.core.queue_model import QueueModel, QueueRow
from tui.core.saved_queues import SavedQueue
from tui.core.session import Session
from tui.ui.keys import translate_bindings
from tui.ui.messages import (
    ActionFailed,
    ActionRecorded,
    DirectoryUpdated,
    PhoneRevealed,
    RowsChanged,
    RowsLoaded,
    SyncStatusChanged,
)

__all__ = ["HotlineApp"]

#: A batch of changed rows larger than this rebuilds the whole model in a thread.
REBUILD_AT = 5000
#: New urgent requests received up to this long before the app started are announced too.
ANNOUNCE_GRACE = 300.0
#: The app's cache is written (in a thread) at most this often: a flush rewrites the whole file,
#: and pulled data lost in a crash is pulled again (the outbox is written at once, always).
FLUSH_EVERY = 10.0
#: At most one notice of new urgent requests this often (seconds); more are counted into the next.
ANNOUNCE_EVERY = 10.0
#: How long to wait before fetching the directory again when the server could not give it.
DIRECTORY_RETRY = 30.0

ClientFactory = Callable[[str, str], HotlineClient]


@runtime_checkable
class HasRequest(Protocol):
    def current_request_id(self) -> str | None: ...


@runtime_checkable
class HasMarks(Protocol):
    """A screen where requests can be marked for a bulk action (the queues)."""

    def bulk_request_ids(self) -> list[str]: ...

    def clear_marks(self) -> None: ...


#: The transition keys: (binding id / action name, key). The action name is the lifecycle's.
TRANSITIONS: tuple[tuple[str, str], ...] = (
    ("dispatch", "d"),
    ("accept", "a"),
    ("return", "r"),
    ("extend", "e"),
    ("resolve", "s"),
    ("callback", "c"),
    ("close", "x"),
    ("reopen", "o"),
    ("note", "n"),
    ("escalate", "exclamation_mark"),
)


#: Transitions the footer leaves out so that the others fit 80 columns (help and ctrl+p list them).
_NOT_IN_FOOTER = frozenset({"escalate", "close"})

#: The actions of the app's own bindings (not Textual's focus and palette actions).
_OWN_ACTIONS = frozenset(
    {"transition", "merge", "unmerge", "duplicates", "conflicts", "dashboard", "help", "quit"}
)


class HotlineApp(App[None]):
    TITLE = "hotline"
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"transition('{name}')", name, show=name not in _NOT_IN_FOOTER, id=f"request.{name}")
            for name, key in TRANSITIONS
        ),
        Binding("m", "merge", "Merge", id="request.merge"),
        Binding("u", "unmerge", "Unmerge", show=False, id="request.unmerge"),
        Binding("C", "conflicts", "Conflicts", show=False, id="app.conflicts"),
        Binding("D", "duplicates", "Duplicates", show=False, id="app.duplicates"),
        Binding("b", "dashboard", "Dashboard", show=False, id="app.dashboard"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    CSS = """
    Screen { background: $surface; }
    Footer { height: 1; }
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
    ) -> None:
        super().__init__()
        self.session = session
        self.strings = strings or Strings("zh")
        self.clock = clock
        self.announce_urgent = announce_urgent
        self._sync_wanted = sync and session.can_sync
        self._client_factory = client_factory or (lambda url, token: HotlineClient(url, token))
        self.model = QueueModel()
        self.loaded = False
        self.client: HotlineClient | None = None
        self.engine: SyncEngine | None = None
        self.last_status: SyncStatus | None = None
        self.rows_signal: Signal[Collection[str]] = Signal(self, "rows")
        self.status_signal: Signal[SyncStatus] = Signal(self, "status")
        self._dirty: set[str] = set()
        self._loads = 0  # model builds under way
        self._changed_while_loading: set[str] = set()
        self._started = clock()
        self._urgent: list[QueueRow] = []  # announced at most every ANNOUNCE_EVERY seconds
        self._last_announced = -ANNOUNCE_EVERY
        self._urgent_timer: Timer | None = None
        self._refreshing = False
        self.collector = CollectorPolicy()
        translate_bindings(self, self.strings)
        if keymap:
            self.set_keymap(dict(keymap))

    # ----- start and stop --------------------------------------------------------------------

    def on_mount(self) -> None:
        from tui.ui.screens.queues import QueuesScreen

        self.collector.start()
        self.set_interval(1.0, self.collector.tick)
        self.push_screen(QueuesScreen())
        for message in self.session.messages:
            self.say(message, severity="warning", timeout=15)
        self.load_rows()
        if self._sync_wanted:
            self.run_sync()

    def on_unmount(self) -> None:
        self.collector.stop()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.collector.touched()
        await super().on_event(event)

    def load_rows(self) -> None:
        """Build every row and the model from the cache, in a thread (large caches take a
        while). Requests that change meanwhile are rebuilt again once the model is taken."""
        self._loads += 1
        self._build_model()

    @work(thread=True, exclusive=True, group="load")
    def _build_model(self) -> None:
        batch = self.session.all_rows()
        self.post_message(RowsLoaded(QueueModel(batch.rows), batch.names))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        self.model = message.model
        self.loaded = True
        self._loads = max(0, self._loads - 1)
        changed, self._changed_while_loading = self._changed_while_loading, set()
        self.rows_signal.publish(())
        if message.names is not self.session.names:
            # Built before the directory came (a thread can finish after a later one): again.
            self.load_rows()
        elif changed:  # the snapshot may predate them
            self._changed(list(changed))

    @work(exclusive=True, group="sync")
    async def run_sync(self) -> None:
        """Run the sync engine until the app ends (an async worker on the app's loop)."""
        token = self.session.token
        assert token is not None
        try:
            client = self._client_factory(self.session.api_url, token)
        except ValueError as exc:
            self.say(str(exc), severity="error", timeout=30)
            return
        async with client:
            self.client = client
            engine = SyncEngine(
                self.session.store,
                client,
                on_status=self._status,
                on_changed=self._changed,
                flush_interval=FLUSH_EVERY,
            )
            self.engine = engine
            directory = asyncio.create_task(self._keep_directory(client))
            try:
                await engine.run()
            finally:
                directory.cancel()
                self.engine = None
                self.client = None

    def _status(self, status: SyncStatus) -> None:
        self.post_message(SyncStatusChanged(status))

    async def _keep_directory(self, client: HotlineClient) -> None:
        """Fetch units, categories and communities; again later if the server is away."""
        while True:
            try:
                directory = await fetch_directory(client)
            except HotlineError:
                await asyncio.sleep(DIRECTORY_RETRY)
                continue
            await asyncio.to_thread(self.session.set_directory, directory)
            self.post_message(DirectoryUpdated())
            return

    # ----- rows ------------------------------------------------------------------------------

    def _changed(self, request_ids: list[str]) -> None:
        """The sync engine changed these requests (called on the app's loop)."""
        self._dirty.update(request_ids)
        if self._loads:
            self._changed_while_loading.update(request_ids)
        if not self._refreshing:
            self._refreshing = True
            self.refresh_rows()

    @work(group="rows")
    async def refresh_rows(self) -> None:
        """Rebuild the rows of changed requests in a thread until none are left."""
        try:
            while self._dirty:
                ids, self._dirty = self._dirty, set()
                if len(ids) > REBUILD_AT:
                    self._loads += 1
                    batch = await asyncio.to_thread(self.session.all_rows)
                    model = await asyncio.to_thread(QueueModel, batch.rows)
                    self.post_message(RowsLoaded(model, batch.names))
                    continue
                batch = await asyncio.to_thread(self.session.rows_for, ids)
                self.post_message(RowsChanged(batch))
        finally:
            self._refreshing = False

    def on_rows_changed(self, message: RowsChanged) -> None:
        batch = message.batch
        fresh = [row for row in batch.rows if row.id not in self.model]
        self.model.upsert(batch.rows)
        self.model.remove(batch.removed)
        if message.announce and self.loaded:
            self._announce(fresh)
        self.rows_signal.publish({row.id for row in batch.rows} | set(batch.removed))
        if batch.names is not self.session.names:  # built with the directory before this one
            self._changed([row.id for row in batch.rows])

    def _announce(self, fresh: Iterable[object]) -> None:
        since = self._started - ANNOUNCE_GRACE  # not the backlog the first sync brings
        urgent = [
            row
            for row in fresh
            if isinstance(row, QueueRow)
            and row.state is State.new
            and (row.tier is Tier.h2 or row.vulnerable)
            and row.received_at >= since
        ]
        if not urgent or not self.announce_urgent:
            return
        self._urgent.extend(urgent)
        wait = self._last_announced + ANNOUNCE_EVERY - time.monotonic()
        if wait <= 0:
            self._say_urgent()
        elif self._urgent_timer is None:  # in a storm: one notice every ANNOUNCE_EVERY seconds
            self._urgent_timer = self.set_timer(wait, self._say_urgent)

    def _say_urgent(self) -> None:
        self._urgent_timer = None
        urgent, self._urgent = self._urgent, []
        if not urgent:
            return
        self._last_announced = time.monotonic()
        last = urgent[-1]
        key = "app.urgent" if len(urgent) == 1 else "app.urgent_many"
        text = self.strings(key, n=len(urgent), id=last.id, description=last.description[:40])
        self.say(text, severity="warning", timeout=ANNOUNCE_EVERY)
        self.bell()

    def on_sync_status_changed(self, message: SyncStatusChanged) -> None:
        self.last_status = message.status
        self.status_signal.publish(message.status)

    def on_directory_updated(self, _message: DirectoryUpdated) -> None:
        # The names in the rows come from the directory: rebuild them.
        self.load_rows()

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
        row = self.model.get(request_id)
        return row is not None and row.state in ALLOWED_FROM.get(name, ())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _OWN_ACTIONS and isinstance(self.screen, ModalScreen):
            return False  # a dialog's keys are its own: `q` or `n` there must not quit or act
        if action == "transition":
            name = str(parameters[0]) if parameters else ""
            marked = self.marked_ids()
            if marked:  # a bulk action: shown when it applies to any marked request
                return any(self._allows(request_id, name) for request_id in marked)
            state = self._current_state()
            return state is not None and state in ALLOWED_FROM.get(name, ())
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
        return True

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
        """One dialog, then the same action on every marked request it applies to."""
        applicable = [request_id for request_id in request_ids if self._allows(request_id, name)]
        if not applicable:
            return
        request = await asyncio.to_thread(self.session.view, applicable[0])
        if request is None:
            return
        action = await self._ask(request, name)
        if action is None:
            return
        title = self.strings("bulk.title", action=self.strings.action(name), n=len(request_ids))
        self._start_bulk([(request_id, action) for request_id in request_ids], title)

    def action_merge(self) -> None:
        parent = self.current_request_id()
        children = [r for r in self.marked_ids() if r != parent]
        if parent is None or not children:
            return
        self.merge(parent, children)

    @work(group="transition")
    async def merge(self, parent: str, children: list[str]) -> None:
        """并单: the marked requests become children of the one under the cursor (after a yes)."""
        from tui.ui.screens.transitions import ConfirmDialog

        question = ConfirmDialog(
            self.strings("merge.title", n=len(children), parent=parent),
            self.strings("merge.body"),
            self.strings,
        )
        if not await self.push_screen_wait(question):
            return
        title = self.strings("bulk.title", action=self.strings.action("merge"), n=len(children))
        self._start_bulk([(child, Merge(parent_id=parent)) for child in children], title)

    @work(group="transition")
    async def merge_many(self, pairs: list[tuple[str, str]], *, clusters: int) -> None:
        """Merge many clusters at once: (parent, child) pairs, after one confirmation."""
        from tui.ui.screens.transitions import ConfirmDialog

        question = ConfirmDialog(
            self.strings("merge.all_title", n=len(pairs), clusters=clusters),
            self.strings("merge.body"),
            self.strings,
        )
        if not await self.push_screen_wait(question):
            return
        title = self.strings("bulk.title", action=self.strings.action("merge"), n=len(pairs))
        self._start_bulk([(child, Merge(parent_id=parent)) for parent, child in pairs], title)

    def action_unmerge(self) -> None:
        request_id = self.current_request_id()
        if request_id is not None:
            self.record(request_id, Unmerge())

    def _start_bulk(self, items: list[tuple[str, Action]], title: str) -> None:
        from tui.ui.screens.bulk import BulkScreen

        screen = self.screen
        if isinstance(screen, HasMarks):
            screen.clear_marks()
        self.push_screen(BulkScreen(items, title))

    def bulk_recorded(self, request_ids: list[str]) -> None:
        """A bulk action is on disk: show the new states, send it."""
        self._changed(request_ids)
        if self.engine is not None:
            self.engine.wake()

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

    async def _ask(self, request: Request, name: str) -> Action | None:
        """The action `name` on `request`, from its dialog (None: cancelled)."""
        from tui.ui.screens import dialogs

        if name == "accept":
            return Accept()
        dialog = dialogs.dialog_for(name, request, self.session, self.strings)
        if dialog is None:
            return None
        return await self.push_screen_wait(dialog)

    def record(self, request_id: str, action: Action) -> None:
        self._record(request_id, action)

    @work(thread=True, group="record")
    def _record(self, request_id: str, action: Action) -> None:
        try:
            self.session.record(request_id, action)
        except TransitionRefused as exc:
            self.post_message(ActionFailed(request_id, action.action, str(exc)))
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
        self.say(self.strings(key, action=self.strings.action(message.action), id=message.request_id))
        if self.engine is not None:
            self.engine.wake()

    def on_action_failed(self, message: ActionFailed) -> None:
        self.say(
            self.strings("app.refused", action=self.strings.action(message.action), reason=message.reason),
            severity="error",
            timeout=10,
        )

    def conflict_resolved(self, request_id: str) -> None:
        """A conflict was retried or dropped: show the request anew, send what is pending."""
        self._changed([request_id])
        if self.engine is not None:
            self.engine.wake()

    # ----- the phone -------------------------------------------------------------------------

    @work(group="reveal", exclusive=True)
    async def reveal_phone(self, request_id: str) -> None:
        """Ask the server for the caller's phone; it records who saw it."""
        screen = self.screen
        if self.client is None or self.last_status is None or not self.last_status.online:
            self.say(self.strings("app.reveal_offline"), severity="warning")
            return
        try:
            reveal = await self.client.reveal_phone(request_id)
        except HotlineError as exc:
            self.say(self.strings("app.reveal_failed", reason=exc.message), severity="error")
            return
        screen.post_message(PhoneRevealed(request_id, reveal.phone))

    # ----- screens ---------------------------------------------------------------------------

    def say(
        self, text: str, *, severity: SeverityLevel = "information", timeout: float | None = None
    ) -> None:
        """A notification, shown literally (it may quote request ids and server messages)."""
        self.notify(text, severity=severity, timeout=timeout, markup=False)

    def open_detail(self, request_id: str) -> None:
        from tui.ui.screens.detail import DetailScreen

        self.push_screen(DetailScreen(request_id))

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

    def save_queue(self, queue: SavedQueue) -> None:
        self._save_queue(queue)

    @work(thread=True, group="saved")
    def _save_queue(self, queue: SavedQueue) -> None:
        try:
            self.session.saved_queues.save(queue)
        except CacheError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.call_from_thread(self.notify, self.strings("app.queue_saved", name=queue.name))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: every action of the app, with its key."""
        from tui.ui.palette import app_commands

        yield from app_commands(self, screen)
