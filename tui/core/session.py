"""`Session`: what one running app works on — the dispatcher's local store, the directory of
units, categories and communities, the saved queues, and how to reach the server.

No Textual here: the app calls these methods from worker threads (they read and write files)
and posts what they return to the UI as messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from api_client.actions import Action
from api_client.models import Category, Community, Request, Unit
from local_cache.directory import Directory, DirectoryFile, default_path, suggested_units
from local_cache.errors import CacheError
from local_cache.local_store import LocalStore
from local_cache.outbox import ConflictRecord, PendingAction, Refusal
from tui.core.collector import paused
from tui.core.queue.rows import Names, QueueRow, row_from_request
from tui.core.saved_queues import QUEUES_FILE, SavedQueues

__all__ = ["BatchRecord", "OutboxState", "RequestDetail", "RowBatch", "Session"]


@dataclass(slots=True)
class RowBatch:
    """Rows built for some requests, the ids that are no longer in the cache, and the names
    (from the directory of the time) the rows were built with."""

    rows: list[QueueRow] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    names: Names = field(default_factory=Names)


@dataclass(slots=True)
class BatchRecord:
    """A bulk write by item index: the outbox key of each recorded item, the reason of each
    refused one."""

    keys: dict[int, str] = field(default_factory=dict)
    refused: dict[int, Refusal] = field(default_factory=dict)


@dataclass(slots=True)
class OutboxState:
    """The keys of the actions still waiting to be sent; each conflict by its action's key."""

    pending: set[str]
    conflicts: dict[str, ConflictRecord]


@dataclass(slots=True)
class RequestDetail:
    """One request as the dispatcher sees it (None: not cached), its unsent actions, its conflicts."""

    request: Request | None
    pending: list[PendingAction]
    conflicts: list[ConflictRecord]


class Session:
    """One dispatcher's working set on one server (see the module docstring)."""

    def __init__(
        self,
        store: LocalStore,
        *,
        api_url: str,
        token: str | None,
        directory_file: DirectoryFile,
        saved_queues: SavedQueues,
    ) -> None:
        self.store = store
        self.api_url = api_url
        self.token = token
        self.directory_file = directory_file
        self.saved_queues = saved_queues
        self.directory: Directory | None = directory_file.load()
        self._names = _names_of(self.directory)
        #: Notices for the dispatcher gathered while opening (a file moved aside, ...).
        self.messages: list[str] = [*store.messages, *directory_file.messages, *saved_queues.messages]

    @classmethod
    def open(cls, directory: Path, *, api_url: str, dispatcher: str, token: str | None) -> Session:
        """Open the dispatcher's cache directory (see `LocalStore.open`) with its directory file
        and saved queues. CacheError when it cannot be used."""
        with paused():  # opening makes many objects and no cycles: nothing for the collector
            store = LocalStore.open(directory, server_url=api_url, dispatcher=dispatcher)
        try:
            return cls(
                store,
                api_url=api_url,
                token=token,
                directory_file=DirectoryFile(default_path(directory)),
                saved_queues=SavedQueues(directory / QUEUES_FILE),
            )
        except BaseException:
            store.close()
            raise

    @property
    def dispatcher(self) -> str:
        return self.store.dispatcher

    @property
    def can_sync(self) -> bool:
        return self.token is not None

    # ----- the directory -------------------------------------------------------------------

    def set_directory(self, directory: Directory) -> None:
        """Take a directory fetched from the server, and keep it on disk for offline starts."""
        self.directory_file.save(directory)
        self.directory = directory
        self._names = _names_of(directory)

    @property
    def names(self) -> Names:
        return self._names

    @property
    def units(self) -> list[Unit]:
        return list(self.directory.units) if self.directory else []

    @property
    def categories(self) -> list[Category]:
        return list(self.directory.categories) if self.directory else []

    @property
    def communities(self) -> list[Community]:
        return list(self.directory.communities) if self.directory else []

    def suggested_units(self, request: Request) -> list[str]:
        if self.directory is None:
            return []
        return suggested_units(self.directory, request.category, request.location.community)

    # ----- rows ----------------------------------------------------------------------------

    def all_rows(self) -> RowBatch:
        """A row for every cached request (slow for a large cache: call it from a worker)."""
        return self.rows_for(self.store.view_ids())

    def rows_for(self, request_ids: Iterable[str]) -> RowBatch:
        """The rows of these requests as the dispatcher sees them now (pending actions applied,
        outbox marks set). A request the cache no longer holds, or holds damaged, is `removed`."""
        # Unsent means an action still waits in the outbox (a confirmed one, whose answer the
        # cache file has not taken in yet, is sent).
        pending = self.store.outbox.pending_request_ids()
        conflicts = {record.action.request_id for record in self.store.conflicts()}
        names = self._names
        batch = RowBatch(names=names)
        for request_id in dict.fromkeys(request_ids):
            try:
                view = self.store.view(request_id)
            except (CacheError, ValidationError):
                view = None
            if view is None:
                batch.removed.append(request_id)
                continue
            batch.rows.append(
                row_from_request(
                    view, unsent=request_id in pending, conflict=request_id in conflicts, names=names
                )
            )
        return batch

    def view(self, request_id: str) -> Request | None:
        return self.store.view(request_id)

    # ----- actions -------------------------------------------------------------------------

    def record(self, request_id: str, action: Action) -> PendingAction:
        """Record an action durably (on disk when this returns). TransitionRefused or a
        CacheError propagate; nothing is recorded then."""
        return self.store.record(request_id, action, actor=self.dispatcher)

    def record_batch(self, items: Sequence[tuple[str, Action]]) -> BatchRecord:
        """Record many actions in one durable write (see `LocalStore.record_batch`): all the
        accepted ones or, when a CacheError propagates, none."""
        recorded, refused = self.store.record_batch(items, actor=self.dispatcher)
        result = BatchRecord(refused=dict(refused))
        taken = iter(recorded)
        for index in range(len(items)):
            if index not in result.refused:
                result.keys[index] = next(taken).key
        return result

    def outbox_state(self) -> OutboxState:
        return OutboxState(
            pending={action.key for action in self.store.pending()},
            conflicts={record.action.key: record for record in self.store.conflicts()},
        )

    def detail(self, request_id: str) -> RequestDetail:
        return RequestDetail(
            request=self.store.view(request_id),
            pending=self.store.outbox.pending_for(request_id),
            conflicts=[c for c in self.store.conflicts() if c.action.request_id == request_id],
        )

    # ----- conflicts -----------------------------------------------------------------------

    def conflicts(self) -> list[ConflictRecord]:
        return self.store.conflicts()

    def retry_conflict(self, conflict_id: str) -> None:
        """Queue a conflict's action again (see `LocalStore.retry_conflict`); TransitionRefused
        when it no longer applies, a CacheError when the conflict is gone or the write failed."""
        self.store.retry_conflict(conflict_id)

    def drop_conflict(self, conflict_id: str) -> None:
        self.store.drop_conflict(conflict_id)

    def close(self) -> None:
        self.store.close()


def _names_of(directory: Directory | None) -> Names:
    if directory is None:
        return Names()
    return Names(
        categories={c.code: c.name for c in directory.categories},
        communities={c.id: c.name for c in directory.communities},
        units={u.id: u.name for u in directory.units},
    )
