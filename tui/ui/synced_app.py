"""`SyncedApp`: the app's data, kept in step with the dispatcher's cache and the server.

- the `Session` (local store, directory, saved queues) — read and written in workers;
- the `QueueModel` of every cached request, built in a thread at start-up and kept current from
  `RowsChanged` messages;
- the sync engine, run as an async worker on the app's loop: its status and the ids it changed
  come back as `SyncStatusChanged` and (after the rows are rebuilt in a thread) `RowsChanged`;
- new urgent requests, announced;
- who the token belongs to (`GET /v1/me`), learned once online and kept for offline starts: a
  unit's login shows its unit's rows and queues (`own_unit`, `identity_signal`).

Screens subscribe to `rows_signal` (ids of changed requests) and `status_signal` (SyncStatus) and
read what `tui.ui.host.Host` names; `HotlineApp` adds the keys and does what screens ask.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Iterable

from textual import events, work
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen
from textual.signal import Signal
from textual.timer import Timer

from api_client.client import HotlineClient
from api_client.domain.untrusted_text import clean
from api_client.errors import HotlineError
from api_client.models import Community, Identity, State, Tier
from api_client.transport_security import cleartext_host
from local_cache.directory import Directory, fetch_directory
from local_cache.errors import CacheError
from local_cache.knowledge_file import fetch_knowledge
from local_cache.sync import SyncEngine, SyncStatus
from tui.core.collector import CollectorPolicy
from tui.core.i18n import Strings
from tui.core.queue.model import QueueModel
from tui.core.queue.rows import Names, QueueRow
from tui.core.saved_queues import SavedQueue
from tui.core.session import Session
from tui.ui.keys import KeymapApp
from tui.ui.messages import DirectoryUpdated, RowsChanged, RowsLoaded, SyncStatusChanged
from tui.ui.toasts import Shown, kept

__all__ = ["ClientFactory", "SyncedApp"]

#: A batch of changed rows larger than this rebuilds the whole model in a thread.
REBUILD_AT = 5000
#: New urgent requests received up to this long before the app started are announced too.
ANNOUNCE_GRACE = 300.0
#: The app's cache is written (in a thread) at most this often: a flush rewrites the whole file,
#: and pulled data lost in a crash is pulled again (the outbox is written at once, always).
FLUSH_EVERY = 10.0
#: At most one notice of new urgent requests this often (seconds); more are counted into the next.
ANNOUNCE_EVERY = 10.0
#: How often notifications held back while a dialog is open are looked at again.
HELD_CHECK_SECONDS = 0.5
#: How long to wait before fetching the directory again when the server could not give it.
DIRECTORY_RETRY = 30.0

ClientFactory = Callable[[str, str], HotlineClient]


class IdentityLearned(Message):
    """The server said who the token belongs to, and it differs from what the app knew."""

    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity


class SyncedApp(KeymapApp):
    """The app's data and its sync (see the module docstring); `HotlineApp` is the app itself."""

    def __init__(
        self,
        session: Session,
        *,
        strings: Strings | None = None,
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
        #: Published with who the token belongs to when the server tells it anew.
        self.identity_signal: Signal[Identity] = Signal(self, "identity")
        #: Published with the directory each time a newer one is kept.
        self.directory_signal: Signal[Directory] = Signal(self, "directory")
        self._dirty: set[str] = set()
        self._loads = 0  # model builds under way
        self._changed_while_loading: set[str] = set()
        self._started = clock()
        self._urgent: list[QueueRow] = []  # announced at most every ANNOUNCE_EVERY seconds
        self._told: set[str] = set()  # urgent requests announced, and those taken in here: once
        self._last_announced = -ANNOUNCE_EVERY
        self._urgent_timer: Timer | None = None
        self._refreshing = False
        self.collector = CollectorPolicy()
        self._held: list[tuple[str, SeverityLevel, float | None]] = []  # while a dialog is open
        self._toasts: list[Shown] = []  # on screen now (`tui.ui.toasts`)
        self._held_timer: Timer | None = None

    # ----- start and stop --------------------------------------------------------------------

    def on_mount(self) -> None:
        self.collector.start()
        self.set_interval(1.0, self.collector.tick)
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
        unit = self.session.own_unit  # read first: a newer one meanwhile only builds them again
        batch = self.session.all_rows()
        self.post_message(RowsLoaded(QueueModel(batch.rows), batch.names, unit))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        previous, reloaded = self.model, self.loaded
        self.model = message.model
        self.loaded = True
        if reloaded:  # a storm's batch, or a reload that read requests before their change came
            self._announce(row for row in message.model if row.id not in previous)
        self._loads = max(0, self._loads - 1)
        changed, self._changed_while_loading = self._changed_while_loading, set()
        self.rows_signal.publish(())
        if message.names is not self.session.names or message.unit != self.session.own_unit:
            # Built before the directory came, or before the server said whose login this is (a
            # thread can finish after a later one): again.
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
        if (host := cleartext_host(self.session.api_url)) is not None:
            self.say(self.strings("app.insecure_transport", host=host), severity="warning", timeout=30)
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
            identity = asyncio.create_task(self._learn_identity(client))
            knowledge = asyncio.create_task(self._keep_knowledge(client))
            try:
                await engine.run()
            finally:
                directory.cancel()
                identity.cancel()
                knowledge.cancel()
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

    async def _keep_knowledge(self, client: HotlineClient) -> None:
        """Fetch the knowledge base for search and answers offline; again later if the server is away."""
        while True:
            try:
                knowledge = await fetch_knowledge(client)
            except HotlineError:
                await asyncio.sleep(DIRECTORY_RETRY)
                continue
            if knowledge is not None:
                try:
                    await asyncio.to_thread(self.session.set_knowledge, knowledge)
                except CacheError as exc:
                    self.say(str(exc), severity="warning")
            return

    async def _learn_identity(self, client: HotlineClient) -> None:
        """Ask the server who the token belongs to (again later if it is away); keep it."""
        while True:
            try:
                identity = await client.me()
            except HotlineError:
                await asyncio.sleep(DIRECTORY_RETRY)
                continue
            try:
                changed = await asyncio.to_thread(self.session.set_identity, identity)
            except CacheError as exc:
                self.say(str(exc), severity="warning")
                return
            if changed:
                self.post_message(IdentityLearned(identity))
            return

    def on_identity_learned(self, message: IdentityLearned) -> None:
        """A unit's login (or no longer one): its rows and queues are built anew."""
        self.identity_signal.publish(message.identity)
        self.refresh_bindings()
        self.load_rows()

    @property
    def own_unit(self) -> str | None:
        """The unit of a unit's login; None: the centre's (`tui.core.unit_login`)."""
        return self.session.own_unit

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
                    unit = self.session.own_unit
                    batch = await asyncio.to_thread(self.session.all_rows)
                    model = await asyncio.to_thread(QueueModel, batch.rows)
                    self.post_message(RowsLoaded(model, batch.names, unit))
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
        if not message.announce:  # taken in here: not news to this dispatcher
            self._told.update(row.id for row in fresh)
        elif self.loaded:
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
            and row.id not in self._told
        ]
        if not urgent or not self.announce_urgent:
            return
        self._told.update(row.id for row in urgent)
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
        if self.session.directory is not None:
            self.directory_signal.publish(self.session.directory)

    def touched(self, request_ids: list[str]) -> None:
        """Actions on these requests were just written here: show them anew, send them."""
        self._changed(request_ids)
        self.send_soon()

    def send_soon(self) -> None:
        """Something new waits in the outbox: wake the sync engine."""
        if self.engine is not None:
            self.engine.wake()

    # ----- what screens read (`tui.ui.host.Host`) --------------------------------------------

    @property
    def names(self) -> Names:
        return self.session.names

    @property
    def communities(self) -> list[Community]:
        return self.session.communities

    @property
    def saved_queues(self) -> list[SavedQueue]:
        return list(self.session.saved_queues)

    @property
    def server_url(self) -> str:
        return self.session.api_url

    @property
    def dispatcher(self) -> str:
        return self.session.dispatcher

    @property
    def can_sync(self) -> bool:
        return self.session.can_sync

    def say(
        self, text: str, *, severity: SeverityLevel = "information", timeout: float | None = None
    ) -> None:
        """A notification, shown literally and cleaned (it may quote request ids, names and server
        messages). While a dialog is open, only errors are shown: the rest wait until it closes,
        so that no toast covers what the dispatcher is filling in. At most `toasts.MAX_SHOWN` at
        once (`tui.ui.toasts.kept`)."""
        if severity != "error" and isinstance(self.screen, ModalScreen):
            self._held.append((text, severity, timeout))
            if self._held_timer is None:
                self._held_timer = self.set_interval(HELD_CHECK_SECONDS, self._show_held)
            return
        now = time.monotonic()
        wait = timeout if timeout is not None else self.NOTIFICATION_TIMEOUT
        before = [item for item in self._toasts if item.until > now]
        self._toasts = kept([*before, Shown(now + wait, clean(text, keep_newlines=True), severity)], now)
        if self._toasts[:-1] == before:  # none gave way: this one joins those shown
            self.notify(self._toasts[-1].text, severity=severity, timeout=wait, markup=False)
            return
        self.clear_notifications()
        for item in self._toasts:
            self.notify(item.text, severity=item.severity, timeout=item.until - now, markup=False)

    def _show_held(self) -> None:
        """Show the notifications held back while a dialog was open, once none is."""
        if isinstance(self.screen, ModalScreen):
            return
        held, self._held = self._held, []
        if self._held_timer is not None:
            self._held_timer.stop()
            self._held_timer = None
        for text, severity, timeout in held:
            self.say(text, severity=severity, timeout=timeout)
